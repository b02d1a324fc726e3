"""HTTP to CoCalc: one pooled session, one timeout, retries, and the one reply interpreter."""

from __future__ import annotations

import logging
import os
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import NewConnectionError

from ..support.cookieless import NoCookies
from .errors import (
    AccountCreationFailed,
    CoCalcAPIError,
    CoCalcError,
    CoCalcProtocolError,
    CoCalcRequestRejected,
    CoCalcTimeout,
    CoCalcUnavailable,
)

log = logging.getLogger(__name__)

#: Called after every CoCalc call with (endpoint, outcome, seconds); metrics hook in here.
Observer = Callable[[str, str, float], None]

_MAX_ERROR_TEXT = 200


def _short(text: Any) -> str:
    """Keep server error texts short enough for a log line."""
    text = str(text)
    return text if len(text) <= _MAX_ERROR_TEXT else text[:_MAX_ERROR_TEXT] + "..."


def _rejection_text(body: Any, status: int) -> str:
    """Say what a 4xx body says: ``{"error"}``, or the current API's validation errors."""
    if not isinstance(body, dict):
        return f"CoCalc answered HTTP {status}"
    if body.get("error"):
        return str(body["error"])
    # /api/v2 request validation: {"message": "Invalid request body.", "errors": [...]}
    problems = [
        f"{'.'.join(str(p) for p in e.get('path') or []) or 'body'}: {e.get('message', '?')}"
        for e in body.get("errors") or []
        if isinstance(e, dict)
    ]
    text = str(body.get("message") or f"CoCalc answered HTTP {status}")
    return f"{text} ({'; '.join(problems)})" if problems else text


def interpret_reply(endpoint: str, response: requests.Response, dialect: str) -> Any:
    """Return the JSON body of a good reply; raise the matching CoCalcError for any other.

    This is the only place that decides what a CoCalc answer means, for both dialects:
    proxies' HTML pages, 5xx and 429 are "unavailable" (worth retrying later), HTTP 400 is a
    rejected request, and an HTTP 200 body can still be a failure (v1 ``event: error`` and
    ``account_creation_failed``; current API ``{"error"}`` and sign-up ``{"issues"}``).
    """
    status = response.status_code
    if status >= 500 or status == 429:
        raise CoCalcUnavailable(f"CoCalc answered HTTP {status}", endpoint=endpoint, status=status)
    try:
        body = response.json()
    except ValueError:
        if status == 200:
            raise CoCalcProtocolError(
                "CoCalc answered with something that is not JSON", endpoint=endpoint, status=status
            ) from None
        raise CoCalcRequestRejected(
            f"CoCalc answered HTTP {status} without JSON (is this endpoint served here?)",
            endpoint=endpoint,
            status=status,
        ) from None
    if status != 200:
        raise CoCalcRequestRejected(
            _short(_rejection_text(body, status)), endpoint=endpoint, status=status
        )
    if isinstance(body, dict):
        FAILURES_IN_200[dialect](body, endpoint)
    return body


def _v1_failure(body: dict, endpoint: str) -> None:
    if body.get("event") == "account_creation_failed":
        raise AccountCreationFailed(body.get("reason") or {}, endpoint=endpoint)
    if body.get("event") == "error":
        raise CoCalcAPIError(_short(body.get("error", "error")), endpoint=endpoint)


def _current_failure(body: dict, endpoint: str) -> None:
    if body.get("issues"):
        raise AccountCreationFailed(body["issues"], endpoint=endpoint)
    if body.get("error"):
        raise CoCalcAPIError(_short(body["error"]), endpoint=endpoint)


#: How each generation says "failed" in an HTTP 200 body (keys: ``dialects.DIALECTS``).
FAILURES_IN_200 = {"v1": _v1_failure, "current": _current_failure}


def _never_sent(exc: requests.RequestException) -> bool:
    """Tell whether a failed request provably never reached the server (safe to repeat)."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, NewConnectionError)


class BrowserSession:
    """Requests as a signed-in browser makes them (no API key), replies interpreted alike."""

    def __init__(self, transport: Transport, session: requests.Session):
        self.transport, self.session = transport, session

    def _send(self, method: str, path: str, endpoint: str, **kwargs) -> Any:
        try:
            response = self.session.request(
                method, self.transport.base_url + path, timeout=self.transport.timeout, **kwargs
            )
        except requests.RequestException:
            raise CoCalcUnavailable("could not connect to CoCalc", endpoint=endpoint) from None
        return response

    def get(self, path: str, **kwargs) -> None:
        response = self._send("GET", path, path, **kwargs)
        if response.status_code >= 400:
            raise CoCalcRequestRejected(
                f"CoCalc answered HTTP {response.status_code}",
                endpoint=path,
                status=response.status_code,
            )

    def post(self, path: str, **kwargs) -> Any:
        return interpret_reply(path, self._send("POST", path, path, **kwargs), "current")


def from_environment(session: requests.Session, base_url: str) -> requests.Session:
    """Take the proxy (``HTTPS_PROXY``, ``NO_PROXY``…) and CA bundle (``REQUESTS_CA_BUNDLE``)
    settings from the environment once, for ``base_url``. Left to itself, requests looks
    them up again, and reads ``~/.netrc``, on every call: about 200 µs of CPU each time,
    a tenth of what a token refill costs the gateway."""
    session.proxies.update(requests.utils.get_environ_proxies(base_url))
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle:
        session.verify = bundle
    session.trust_env = False
    return session


class Transport:
    """POST JSON to CoCalc with the API key as HTTP Basic user name.

    Retries use capped exponential backoff with full jitter. A call is repeated only when
    that is harmless: the caller says the call is idempotent, or the request never left.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        dialect: str,
        timeout: float = 10.0,
        retries: int = 2,
        backoff: float = 0.2,
        backoff_cap: float = 2.0,
        observer: Observer | None = None,
        headers: Callable[[], dict[str, str]] | None = None,
    ):
        self.base_url = base_url.rstrip("/")
        self.dialect = dialect
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.backoff_cap = backoff_cap
        self.observer = observer
        self.extra_headers = headers
        self.session = from_environment(requests.Session(), self.base_url)
        self.session.cookies.set_policy(NoCookies())
        self.session.auth = (api_key, "")
        self.session.headers["User-Agent"] = "cocalc-gateway"
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=64, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def __repr__(self) -> str:  # never show the key, even in a debugger
        return f"<Transport {self.dialect} {self.base_url}>"

    @contextmanager
    def browser_session(self) -> Iterator[BrowserSession]:
        """A throw-away session that keeps cookies, as a browser signed in as a user would;
        for the few calls the current API takes only from a signed-in account."""
        session = from_environment(requests.Session(), self.base_url)
        session.headers["User-Agent"] = "cocalc-gateway"
        try:
            yield BrowserSession(self, session)
        finally:
            session.close()

    def post(
        self, path: str, body: Any, *, endpoint: str, idempotent: bool, runs_for: float = 0.0
    ) -> Any:
        """Send one call, retrying where safe, and return the interpreted JSON reply;
        ``runs_for``: seconds the call itself may take on the server (a command's time
        limit), waited for beyond the usual timeout."""
        attempt = 0
        while True:
            started = time.perf_counter()
            try:
                result = self._once(path, body, endpoint, runs_for)
            except CoCalcError as exc:
                self._observe(endpoint, type(exc).__name__, started)
                repeatable = idempotent or exc.never_sent
                if not (exc.retryable and repeatable and attempt < self.retries):
                    raise
                attempt += 1
                delay = random.uniform(0, min(self.backoff_cap, self.backoff * 2**attempt))
                log.info("retrying CoCalc call %s in %.2fs (%s)", endpoint, delay, exc)
                time.sleep(delay)
                continue
            self._observe(endpoint, "ok", started)
            return result

    def _once(self, path: str, body: Any, endpoint: str, runs_for: float = 0.0) -> Any:
        headers = self.extra_headers() if self.extra_headers else None
        try:
            response = self.session.post(
                self.base_url + path,
                json=body,
                timeout=self.timeout + runs_for,
                headers=headers,
            )
        except requests.Timeout as exc:
            error = CoCalcTimeout("CoCalc did not answer in time", endpoint=endpoint)
            error.never_sent = _never_sent(exc)
            raise error from None
        except requests.RequestException as exc:
            error = CoCalcUnavailable("could not connect to CoCalc", endpoint=endpoint)
            error.never_sent = _never_sent(exc)
            raise error from None
        return interpret_reply(endpoint, response, self.dialect)

    def _observe(self, endpoint: str, outcome: str, started: float) -> None:
        if self.observer:
            self.observer(endpoint, outcome, time.perf_counter() - started)
