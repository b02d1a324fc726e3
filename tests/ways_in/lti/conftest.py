"""Fixtures of the LTI tests: the gateway served on a real port, and an LMS that nobody here
wrote (``lti1p3platform`` through the shim in ``gateway.dev.lms``) registered with it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import unescape
from urllib.parse import urljoin

import pytest
import requests

from gateway import hosts
from gateway.dev.devserver import ThreadedServer
from gateway.dev.lms import start_lms
from gateway.ways_in.lti import platforms
from tests.conftest import app_lifetime, make_app

FORM = re.compile(r'<form id="autopost" method="post" action="([^"]*)">(.*?)</form>', re.S)
INPUT = re.compile(r'<input type="hidden" name="([^"]*)" value="([^"]*)">')


class Agent:
    """A browser without JavaScript: follows redirects and submits auto-posting forms.

    It keeps ``Secure`` cookies over plain HTTP (the servers are on 127.0.0.1, which browsers
    treat as secure; requests would not send them), following redirects itself so that
    each hop sees the cookies the one before it set. It remembers each form it posted, so
    tests can replay one."""

    MAX_HOPS = 25

    def __init__(self):
        self.http = requests.Session()
        # requests files a response's cookies after its hooks: so, before each request.
        self.http.auth = self._as_if_secure
        self.posted: list[tuple[str, dict]] = []

    def _as_if_secure(self, request):
        for cookie in self.http.cookies:
            cookie.secure = False
        request.headers.pop("Cookie", None)
        request.prepare_cookies(self.http.cookies)
        return request

    def _hops(self, reply: requests.Response) -> requests.Response:
        history = []
        while reply.is_redirect and len(history) < self.MAX_HOPS:
            history.append(reply)
            location = urljoin(reply.url, reply.headers["Location"])
            if reply.status_code in (307, 308) and reply.request.method == "POST":
                reply = self.http.post(
                    location, data=reply.request.body, allow_redirects=False, timeout=20
                )
            else:
                reply = self.http.get(location, allow_redirects=False, timeout=20)
        reply.history = history
        return reply

    def open(self, url: str, **kwargs) -> requests.Response:
        return self.follow(
            self._hops(self.http.get(url, allow_redirects=False, timeout=20, **kwargs))
        )

    def post(self, url: str, fields: dict) -> requests.Response:
        self.posted.append((url, dict(fields)))
        return self.follow(
            self._hops(self.http.post(url, data=fields, allow_redirects=False, timeout=20))
        )

    def follow(self, reply: requests.Response) -> requests.Response:
        found = FORM.search(reply.text) if "html" in reply.headers.get("Content-Type", "") else None
        if found is None:
            return reply
        fields = {name: unescape(value) for name, value in INPUT.findall(found.group(2))}
        return self.post(unescape(found.group(1)), fields)


@dataclass
class Lti:
    url: str
    app: object
    gw: object
    lms: object
    host: object
    platform: object
    sim: object

    def course_launch(self, context="course-1", **params) -> str:
        query = "&".join(f"{k}={v}" for k, v in params.items())
        return f"{self.lms.url}/course/{context}/launch?{query}"


@pytest.fixture
def lti(sim, sqlite_url, request):
    """The gateway on a real port with the LMS registered; settings of a test's own come as
    the fixture's parameter (``indirect``)."""
    server = ThreadedServer()
    settings = getattr(request, "param", {})
    app = make_app(
        sim, sqlite_url, GATEWAY_PUBLIC_URL=server.url, LTI_KEY_SET_REFRESH_FLOOR=0, **settings
    )
    server.start(app)
    lms_server, lms = start_lms(server.url)
    gw = app.extensions["gateway"]
    with app.app_context():
        host, _ = hosts.add(gw, "Course site", [lms.url])
        values = lms.gateway_commands(host.id)
        platform = platforms.add(gw, values.pop("host_id"), **values)
    try:
        for ready in app_lifetime(app):
            yield Lti(server.url, ready, gw, lms, host, platform, sim)
    finally:
        lms_server.stop()
        server.stop()


@pytest.fixture
def agent():
    return Agent()
