"""Pages bound to the browser that got them, in Chromium: a copied frame address opens
nothing elsewhere, a frame that keeps no cookie opens its page once and moves to a new tab,
and a sibling subdomain cannot toss a cookie the gateway would believe."""

from __future__ import annotations

import json

import pytest
import requests
from flask import Flask, Response

from gateway import create_app, hosts
from gateway.dev.devserver import ThreadedServer
from gateway.store import migrate
from gateway.support import concurrency
from gateway.web import current
from tests.browser.conftest import CHROMIUM, ONE_DIALECT, launch_demo, wait_embed_frame
from tests.browser.sites import SITE_ARGS, tls_context
from tests.browser.test_third_party_cookies import wait_for_embed
from tests.conftest import GATEWAY_SECRET, start_simulator
from tests.launching import mint

pytestmark = pytest.mark.browser


@ONE_DIALECT
def test_a_copied_frame_address_opens_nothing_in_another_browser(page, stack, browser):
    launch_demo(page, stack, user="alice")
    frame = wait_embed_frame(page, stack)
    frame.wait_for_function("() => document.body.dataset.state === 'open'")
    address = frame.url  # "Copy frame address"
    thief = browser.new_context()
    try:
        tab = thief.new_page()
        opened = tab.goto(address)  # "Open frame in new tab", in another browser
        assert opened.status == 403 and "auth_token" not in tab.content()
        # Forged headers from the thief's own client: no sign-in, no ticket, no action.
        for headers in ({"Sec-Fetch-Dest": "iframe"}, {}):
            stolen = thief.request.get(address, headers=headers)
            assert stolen.status == 403 and "auth_token" not in stolen.text()
        same_origin = {"Sec-Fetch-Site": "same-origin", "Origin": stack["gateway"].url}
        for action in ("new-tab/ticket", "signed-in", "start"):
            assert thief.request.post(f"{address}/{action}", headers=same_origin).status == 403
    finally:
        thief.close()
    # The page's own frame reloads as before.
    frame.evaluate("() => location.reload()")
    again = wait_embed_frame(page, stack)
    again.wait_for_function("() => document.body.dataset.state === 'open'")


def strip_cookies_in_frames(context, gateway_url: str, playwright) -> None:
    """A browser that keeps no cookie of the gateway's in a frame (Safari across sites):
    every response to a framed request of the gateway's loses its Set-Cookie."""

    def handle(route):
        request = route.request
        try:
            framed = request.frame.parent_frame is not None
        except Exception:  # a new tab's first request comes before its frame exists
            framed = False
        if not framed:  # top level: cookies as usual
            return route.continue_()
        headers = {k: v for k, v in request.headers.items() if k.lower() != "cookie"}
        if request.is_navigation_request():  # what Chromium adds, and the route does not see
            headers.update({"Sec-Fetch-Dest": "iframe", "Sec-Fetch-Mode": "navigate"})
        fetcher = playwright.request.new_context()  # one per request: it keeps no cookie
        try:
            answer = fetcher.fetch(
                request.url,
                method=request.method,
                headers=headers,
                data=request.post_data_buffer,
                max_redirects=0,
            )
            kept = {k: v for k, v in answer.headers.items() if k.lower() != "set-cookie"}
            route.fulfill(status=answer.status, headers=kept, body=answer.body())
        finally:
            fetcher.dispose()

    context.route(gateway_url + "/**", handle)


@ONE_DIALECT
def test_a_frame_that_keeps_no_cookie_opens_once_and_moves_to_a_new_tab(
    blocking_browser, stack, other_site, playwright
):
    context = blocking_browser.new_context()
    strip_cookies_in_frames(context, stack["gateway"].url, playwright)
    page = context.new_page()
    page.set_default_timeout(15000)
    try:
        page.goto(other_site + "/")
        embed = wait_for_embed(page, stack)
        embed.wait_for_function("() => document.body.dataset.state === 'offer'")
        settings = json.loads(embed.locator("#settings").text_content())
        assert settings["once"] is True and settings["signInUrl"] is None
        assert embed.locator("#cocalc").count() == 0  # no kiosk, no sign-in in the frame
        with context.expect_page() as opened:
            embed.click("#offer-open")
        tab = opened.value
        tab.wait_for_function("() => document.body.dataset.state === 'open'")
        assert "/embed/" in tab.url
        # The framed page's one view is spent: its URL gets nothing more.
        again = context.new_page()
        assert again.goto(embed.url).status == 403
    finally:
        context.close()


@pytest.fixture(scope="module")
def blocking_browser(playwright):
    args = [*SITE_ARGS, "--test-third-party-cookie-phaseout"]
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=args, headless=True)
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def sites_browser(playwright):
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=SITE_ARGS, headless=True)
    yield browser
    browser.close()


@pytest.fixture
def one_site(tmp_path):
    """The gateway at https://gw.example.test and a sibling, https://evil.example.test:
    one site (example.test), two hosts, as a university serves its apps."""
    server, sim = start_simulator("current")
    gateway_server = ThreadedServer(ssl_context=tls_context(), name="gw.example.test")
    app = create_app(
        {
            "COCALC_URL": sim.url,
            "COCALC_API_KEY": sim.admin_key,
            "COCALC_API_DIALECT": "current",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'gateway.sqlite3'}",
            "GATEWAY_SECRET_KEY": GATEWAY_SECRET,
            "GATEWAY_PUBLIC_URL": gateway_server.url,
            "GATEWAY_HOUSEKEEPING_INTERVAL": 0,
        }
    )
    migrate.upgrade(app.extensions["db"].engine)
    gateway_server.start(app)
    sibling = Flask("sibling")
    sibling_server = ThreadedServer(ssl_context=tls_context(), name="evil.example.test")
    sibling_server.start(sibling)
    with app.app_context():
        host, secret = hosts.add(
            app.extensions["gateway"], "University LMS", ["https://lms.example.test"]
        )
    yield {"gateway": gateway_server, "sibling": sibling, "sibling_url": sibling_server.url,
           "host": host, "secret": secret, "sim": sim}  # fmt: skip
    concurrency.wait_idle()
    for each in (gateway_server, sibling_server, server):
        each.stop()
    current.close(app)


#: Every binding and session cookie the gateway sets, as a sibling would toss them.
TOSSED = ("__Host-gw_page_{id}", "__Host-lti_state_0", "__Host-sso_state_0", "__Host-gw_session_0")


def test_a_sibling_subdomain_cannot_toss_a_binding_cookie(sites_browser, one_site):
    """The attacker's own top-level page (a plain client posts his launch as if from the
    LMS) and its binding cookie; his sibling page sets that cookie for the whole site
    (``Domain=example.test``) in the victim's browser and sends the victim to the page."""
    token = mint(one_site["host"].id, one_site["secret"], sub="mallory", given_name="Mallory")
    port = one_site["gateway"].port
    issued = requests.post(  # to loopback, under the gateway's name
        f"https://127.0.0.1:{port}/launch",
        data={"token": token},
        headers={
            "Host": f"gw.example.test:{port}",
            "Origin": "https://lms.example.test",
            "Sec-Fetch-Dest": "document",
        },
        allow_redirects=False,
        verify=False,  # noqa: S501 (the certificate made for the test)
        timeout=20,
    )
    assert issued.status_code == 303
    name, value = issued.headers["Set-Cookie"].split(";", 1)[0].split("=", 1)
    assert name.startswith("__Host-gw_page_")
    target = issued.headers["Location"]
    names = [n.replace("__Host-gw_page_{id}", name) for n in TOSSED] + ["gw_page"]

    @one_site["sibling"].get("/")
    def toss():
        page = Response(f"<script>location.href = {json.dumps(target)};</script>")
        for tossed in names:
            page.headers.add(
                "Set-Cookie", f"{tossed}={value}; Domain=example.test; Path=/; Secure; SameSite=Lax"
            )
        return page

    context = sites_browser.new_context()
    try:
        victim = context.new_page()
        victim.goto(one_site["sibling_url"] + "/")
        victim.wait_for_url(target)
        text = victim.locator("body").inner_text()
        assert "another browser" in text and "Mallory" in text
        assert victim.locator("#cocalc").count() == 0
        tossed = [c["name"] for c in context.cookies() if c["name"].startswith("__Host-")]
        assert tossed == []  # the browser refused every __Host- cookie with a Domain
    finally:
        context.close()
