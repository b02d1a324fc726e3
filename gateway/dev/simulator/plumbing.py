"""What every simulated API call shares: key checks, latency, counting and injected faults."""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Response, current_app, request

from .state import State

PROXY_PAGE = (
    "<html><head><title>{code} {title}</title></head><body><center><h1>{code} {title}</h1>"
    "</center><hr><center>nginx</center></body></html>"
)


@dataclass
class SimulatorConfig:
    """How one simulator instance behaves; tests change the mutable parts at run time."""

    dialect: str = "v1"
    #: Exec runs real programs in the project's sandbox (``sandbox``: needs bubblewrap);
    #: otherwise it knows a few shell commands and says the rest are not found.
    real_exec: bool = False
    admin_key: str = "sk_simulator_admin_key_000"
    user_key: str = "sk_simulator_user_key_0000"
    #: CoCalc's ``iframe_comm_hosts``: host names allowed to talk to kiosk pages (https only).
    iframe_comm_hosts: list[str] = field(default_factory=list)
    #: Simulator-only: exact http origins (with port) also allowed, for local testing.
    insecure_origins: list[str] = field(default_factory=list)
    latency_ms: float = 0.0
    #: Accounts per 30 minutes (real CoCalc: about 150 per IP address); None turns it off.
    account_rate_limit: int | None = 150
    registration_token: str | None = None
    #: How long a "timeout" fault keeps the request hanging.
    fault_sleep_s: float = 5.0
    #: Delay between the kiosk page's "ack" and "done" replies to "open".
    open_delay_ms: float = 50.0
    #: How long creating a project through the API takes (beside ``latency_ms``): the real
    #: server allocates and starts it, about a second.
    create_project_delay_ms: float = 0.0
    #: Delay between "done" and the editor with the file's text on screen (the real front
    #: end paints "Loading…" meanwhile: about 2 s on a development build, section 7b).
    editor_delay_ms: float = 0.0
    dns: str = ""
    #: How a finished copy is answered: "empty" (``copy_path_id: ""``, what a real API v1
    #: server of 2024-09 answers even with wait_until_done), "missing" (``event: success``
    #: without an id), or "async" (an id to poll with copy_path_status; current API:
    #: ``copy_id`` when wait_until_done is false).
    copy_reply: str = "empty"
    #: The kiosk page answers postMessage this long before its iframe fires ``load`` (the
    #: real single-page app answered 0.01 to 0.95 s before it).
    load_delay_ms: float = 400.0
    #: The kiosk page's first status replies say "connecting" for this long.
    connect_delay_ms: float = 150.0
    #: CoCalc's site setting ``samesite_remember_me``: "strict" (the default) or "none".
    samesite_remember_me: str = "strict"
    #: Added to every page the simulator serves (kiosk, sign-in, app, assets): a network
    #: and server delay per page load, as ``latency_ms`` is per API call.
    page_latency_ms: float = 0.0
    #: How long current CoCalc takes to answer ``POST /api/v1/ping`` with its 404 page (the
    #: first one on a cold server took over 10 s).
    v1_ping_delay_ms: float = 0.0
    #: Sign-up starts "My First Project" asynchronously: it is ``starting`` this long, then
    #: ``running``, and a stop sent meanwhile is undone when the start completes (section 7c;
    #: seconds on a loaded real server).
    first_project_start_ms: float = 300.0
    #: What the real app costs a browser (``REAL_LIKE`` sets them as measured): the hub
    #: round trip of ``/auth/impersonate``, the download of the app's bundle (cached by the
    #: browser after the first time), and the app's start-up before it listens.
    sign_in_delay_ms: float = 0.0
    app_bundle_ms: float = 0.0
    app_init_ms: float = 0.0


#: The delays of a real CoCalc (development build, 2 cores; sections 7b and 7c): a signed-in
#: browser framing the kiosk URL got ``done`` after 1.87 s and the editor after 3.80 s, and
#: a sign-in is a hub round trip. ``bench.browser --real-like`` and ``make demo`` can set them.
REAL_LIKE = {
    "sign_in_delay_ms": 250.0,
    "app_bundle_ms": 1200.0,
    "app_init_ms": 900.0,
    "connect_delay_ms": 500.0,
    "open_delay_ms": 600.0,
    "editor_delay_ms": 1900.0,
    "load_delay_ms": 400.0,
}


class Simulator:
    """State plus configuration, stored on the simulator app as ``extensions['simulator']``."""

    def __init__(self, config: SimulatorConfig):
        self.config = config
        self._initial = dataclasses.replace(config)
        self.state = State(
            admin_key=config.admin_key,
            user_key=config.user_key,
            token_hours=12 if config.dialect == "v1" else 24,
        )

    def restore_knobs(self) -> None:
        """Put every run-time knob back to how the simulator started."""
        for knob in dataclasses.fields(self.config):
            value = getattr(self._initial, knob.name)
            setattr(self.config, knob.name, list(value) if isinstance(value, list) else value)


def sim() -> Simulator:
    return current_app.extensions["simulator"]


def request_api_key() -> str | None:
    """Read the key the way CoCalc does: Basic user name (empty password) or Bearer."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer":
        return value.strip() or None
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip()).decode()
        except (ValueError, UnicodeDecodeError):
            return None
        return decoded.partition(":")[0] or None
    return None


def proxy_page(code: int, title: str) -> Response:
    return Response(PROXY_PAGE.format(code=code, title=title), code, mimetype="text/html")


def current_has_no_v1() -> Response:
    """Current CoCalc's answer to ``/api/v1/...``: its own 404 page, about 10 KB of HTML,
    after ``v1_ping_delay_ms`` (a cold real server took over 10 s for the first one)."""
    delay = sim().config.v1_ping_delay_ms
    if delay:
        time.sleep(delay / 1000)
    filler = "<div class='nav-placeholder'></div>" * 280
    page = f"<!DOCTYPE html><html><head><title>404: Not Found</title></head><body>{filler}"
    return Response(page + "<h1>404</h1></body></html>", 404, mimetype="text/html")


def _drop_connection() -> Response:
    """Close the client's socket without an answer, like a crashed upstream."""
    sock = request.environ.get("werkzeug.socket")
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    return proxy_page(502, "Bad Gateway")


def creating_project() -> None:
    """The time an API call takes to create a project (``create_project_delay_ms``)."""
    delay = sim().config.create_project_delay_ms
    if delay:
        time.sleep(delay / 1000)


def faulted(endpoint: str, handler: Callable[[], Response], error: Callable[[str], Response]):
    """Count the call, add latency, then answer, unless a fault is armed for this endpoint."""
    simulator = sim()
    simulator.state.count(endpoint)
    if simulator.config.latency_ms:
        time.sleep(simulator.config.latency_ms / 1000)
    mode = simulator.state.take_fault(endpoint)
    if mode == "html502":
        return proxy_page(502, "Bad Gateway")
    if mode == "timeout":
        time.sleep(simulator.config.fault_sleep_s)
        return proxy_page(504, "Gateway Time-out")
    if mode == "drop":
        return _drop_connection()
    if mode == "error":
        return error("simulated failure")
    if mode == "garbage":
        return Response("<html><body>OK</body></html>", 200, mimetype="text/html")
    response = handler()
    if mode == "lose_reply":
        # The work is done, but the answer never reaches the caller.
        return proxy_page(502, "Bad Gateway")
    return response
