"""Outbound calls under abuse, against real servers on this machine: private addresses in
production, redirects, DNS answers that change, a port scan, a drip and a flood."""

from __future__ import annotations

import logging
import socket
import threading
import time

import pytest
from flask import Flask, Response, redirect

from gateway.dev.devserver import ThreadedServer
from gateway.errors import BadGateway
from gateway.support.checked_http import MAX_BYTES
from gateway.support.outbound import Outbound, Policy

PRODUCTION = {"GATEWAY_PUBLIC_URL": "https://gw.example.edu"}
DEVELOPMENT = {"GATEWAY_PUBLIC_URL": "http://127.0.0.1:8000"}


@pytest.fixture(scope="module")
def server():
    app = Flask("peer")
    app.config["OTHER"] = ""

    @app.get("/doc")
    def doc():
        return {"ok": True}

    @app.get("/html")
    def html():
        return "<html>not json</html>"

    @app.get("/huge")
    def huge():
        return Response(b"x" * (MAX_BYTES + 10), mimetype="application/json")

    @app.get("/to-other")
    def to_other():
        return redirect(app.config["OTHER"] + "/doc", 302)

    @app.get("/to-plain-http")
    def to_plain_http():
        return redirect("http://public.example/doc", 302)

    running = ThreadedServer(app).start()
    yield running, app
    running.stop()


def outbound(**settings) -> Outbound:
    return Outbound(Policy.from_settings({**PRODUCTION, **settings}))


def test_in_production_a_loopback_target_is_refused(server, caplog):
    running, _ = server
    caplog.set_level(logging.WARNING)
    with pytest.raises(BadGateway) as refused:
        outbound().get_json(running.url + "/doc", "key set")
    assert "could not be reached or did not answer as it should" in refused.value.message
    assert "address not allowed" in caplog.text


def test_the_allow_list_admits_an_internal_host_or_network(server):
    running, _ = server
    assert outbound(GATEWAY_OUTBOUND_ALLOW="127.0.0.0/8").get_json(running.url + "/doc", "x")
    by_name = running.url.replace("127.0.0.1", "localhost")
    assert outbound(GATEWAY_OUTBOUND_ALLOW="localhost").get_json(by_name + "/doc", "x")


def test_a_gateway_on_loopback_may_call_loopback(server):
    running, _ = server
    assert Outbound(Policy.from_settings(DEVELOPMENT)).get_json(running.url + "/doc", "x")


def test_a_redirect_is_checked_like_the_first_url(server):
    """Allowed host redirects to an address that is not allowed: refused at the hop."""
    running, app = server
    app.config["OTHER"] = running.url  # 127.0.0.1, by address
    allowed_by_name = outbound(GATEWAY_OUTBOUND_ALLOW="localhost")
    first = running.url.replace("127.0.0.1", "localhost")
    with pytest.raises(BadGateway):
        allowed_by_name.get_json(first + "/to-other", "configuration document")
    with pytest.raises(BadGateway):  # and a hop to plain http elsewhere breaks the URL rule
        Outbound(Policy.from_settings(DEVELOPMENT)).get_json(running.url + "/to-plain-http", "x")


def test_the_address_checked_is_the_address_connected_to(server, monkeypatch, caplog):
    """A name whose DNS answer is private at connect time (rebinding) is refused; the same
    URL works once the name is allowed, so it is the address that was refused."""
    running, _ = server
    real = socket.getaddrinfo

    def rebinding(host, *args, **kwargs):
        if host == "public.example":
            host = "127.0.0.1"
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    url = running.url.replace("127.0.0.1", "public.example")
    caplog.set_level(logging.WARNING)
    with pytest.raises(BadGateway):
        outbound().get_json(url + "/doc", "key set")
    assert "public.example resolves to 127.0.0.1" in caplog.text
    assert outbound(GATEWAY_OUTBOUND_ALLOW="public.example").get_json(url + "/doc", "key set")


def test_an_open_port_and_a_closed_one_fail_alike(server):
    running, _ = server
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    dev = Outbound(Policy.from_settings(DEVELOPMENT))
    messages = set()
    for url in (running.url + "/html", f"http://127.0.0.1:{port}/", running.url + "/huge"):
        with pytest.raises(BadGateway) as failed:
            dev.get_json(url, "configuration document")
        messages.add(failed.value.message)
    assert len(messages) == 1


@pytest.fixture
def drip():
    """A server that answers one byte every 0.3 s, for 30 s: headers first, then the body."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    stop = threading.Event()

    def serve():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            with conn:
                conn.recv(4096)
                for byte in (
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n" + b" " * 100
                ):
                    if stop.is_set():
                        break
                    try:
                        conn.sendall(bytes([byte]))
                    except OSError:
                        break
                    time.sleep(0.3)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join(timeout=5)
    listener.close()


def test_a_dripping_server_is_cut_off_at_the_deadline(drip):
    dev = Outbound(Policy.from_settings({**DEVELOPMENT, "GATEWAY_OUTBOUND_DEADLINE": 2}))
    began = time.monotonic()
    with pytest.raises(BadGateway):
        dev.get_json(drip + "/", "configuration document")
    assert time.monotonic() - began < 4


def test_an_answer_over_the_size_limit_is_refused(server):
    running, _ = server
    with pytest.raises(BadGateway):
        Outbound(Policy.from_settings(DEVELOPMENT)).call("GET", running.url + "/huge", "x")


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("93.184.216.34", True),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),  # cloud metadata
        ("127.0.0.1", False),
        ("0.0.0.0", False),  # noqa: S104
        ("::1", False),
        ("fe80::1", False),
        ("fd00::1", False),
        ("::ffff:10.0.0.1", False),
        ("2606:4700::1111", True),
        ("224.0.0.1", False),
    ],
)
def test_which_addresses_production_allows(address, allowed):
    assert Policy.from_settings(PRODUCTION).allows("lms.example.edu", address) is allowed
