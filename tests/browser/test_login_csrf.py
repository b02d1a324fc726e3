"""Login CSRF in a real Chromium: an attacker's page on another site cannot sign a victim's
browser into the attacker's CoCalc account; the host's own framed flows still work."""

from __future__ import annotations

import json

import pytest
import requests
from flask import Flask

from gateway.dev.devserver import ThreadedServer
from gateway.support import concurrency
from tests.browser.conftest import sim_control, wait_embed_frame
from tests.launching import mint

pytestmark = pytest.mark.browser


@pytest.fixture
def attacker(stack):
    """A page on another site (localhost, not 127.0.0.1) that serves what a test puts in."""
    app = Flask("attacker")
    app.config["PAGE"] = ""

    @app.get("/")
    def page_():
        return app.config["PAGE"]

    server = ThreadedServer(app, host="127.0.0.1").start()
    server.site = f"http://localhost:{server.port}"
    server.app = app
    yield server
    server.stop()


def attackers_token(stack, **claims):
    wanted = {
        "sub": "mallory",
        "given_name": "Mallory",
        "family_name": "Attacker",
        "email": "mallory@example.edu",
        "path": "welcome.md",
        **claims,
    }
    return mint(stack["host_id"], stack["host_secret"], **wanted)


def signed_in_at_cocalc(page, stack) -> bool:
    cookies = page.context.cookies([stack["simulator"].url])
    return any(c["name"] == "remember_me" for c in cookies)


def assert_no_sign_in_on(page, stack) -> None:
    """The page that loaded holds no sign-in at all (no settings for a script to sign in
    with, no kiosk), and CoCalc has no cookie in this browser: checked once the page
    finished loading, since a page without a sign-in has nothing that could come later."""
    page.wait_for_load_state("load")
    assert page.locator("#settings").count() == 0 and page.locator("#cocalc").count() == 0
    assert "auth_token" not in page.content()
    assert not signed_in_at_cocalc(page, stack)


def test_a_form_post_from_another_site_asks_whose_account_it_is(page, stack, attacker):
    gateway = stack["gateway"].url
    attacker.app.config["PAGE"] = (
        f'<form id="f" method="post" action="{gateway}/launch" target="_top">'
        f'<input type="hidden" name="token" value="{attackers_token(stack)}"></form>'
        "<script>document.getElementById('f').submit()</script>"
    )
    page.goto(attacker.site)
    page.wait_for_url(f"{gateway}/launch")
    identity = page.locator("#identity").inner_text()
    assert "Mallory Attacker" in identity and "mallory@example.edu" in identity
    assert not signed_in_at_cocalc(page, stack)
    # The victim who reads the name and continues anyway gets what was asked for, knowingly.
    page.click("#confirm")
    page.wait_for_url(f"{gateway}/embed/*")
    page.wait_for_function("() => document.body.dataset.state === 'open'")
    assert page.frame_locator("#cocalc").locator("#filename").inner_text() == "welcome.md"


def test_a_top_level_link_with_a_token_asks_first(page, stack, attacker):
    gateway = stack["gateway"].url
    link = f"{gateway}/launch?token={attackers_token(stack)}"
    attacker.app.config["PAGE"] = f'<a id="go" href="{link}">free notebooks</a>'
    page.goto(attacker.site)
    page.click("#go")
    page.wait_for_url(f"{gateway}/launch?*")
    assert "Mallory Attacker" in page.locator("#identity").inner_text()
    assert_no_sign_in_on(page, stack)


def test_a_top_level_link_to_someone_elses_embed_page_never_signs_in(
    browser, page, stack, attacker
):
    # The attacker launches inside the host's page in their own browser and copies the URL.
    own = browser.new_context()
    mine = own.new_page()
    mine.goto(stack["host"].url)
    mine.evaluate(
        """async ({url, token}) => {
            const {mount} = await import(url + '/static/cocalc-embed.js');
            window.demoEmbed = mount(document.getElementById('embed'), {url: url + '/launch', token});
        }""",
        {"url": stack["gateway"].url, "token": attackers_token(stack)},
    )
    embed_url = wait_embed_frame(mine, stack).url
    own.close()
    attacker.app.config["PAGE"] = f'<a id="go" href="{embed_url}">look</a>'
    page.goto(attacker.site)
    page.click("#go")
    page.wait_for_url(embed_url)
    assert "inside the site you came from" in page.locator("body").inner_text()
    assert_no_sign_in_on(page, stack)


def test_a_framed_get_of_a_launch_token_works(page, stack):
    """Hosts that can only set an iframe src: the framed GET signs in, as before."""
    page.goto(stack["host"].url)
    src = f"{stack['gateway'].url}/launch?token={attackers_token(stack, sub='frame-get')}"
    page.evaluate(
        "(src) => { const f = document.createElement('iframe'); f.id = 'direct'; f.src = src;"
        " f.style.height = '400px'; document.getElementById('embed').replaceChildren(f); }",
        src,
    )
    embed = wait_embed_frame(page, stack)
    embed.wait_for_function("() => document.body.dataset.state === 'open'")
    if stack["dialect"] == "current":
        assert signed_in_at_cocalc(page, stack)  # /auth/impersonate set CoCalc's cookie
    else:  # API v1 signs in from the kiosk URL's own token, over CoCalc's websocket
        assert "auth_token=" in embed.locator("#cocalc").get_attribute("src")
    assert page.frame_locator("#direct").frame_locator("#cocalc").locator("#filename").inner_text()


def test_a_framed_post_from_a_stranger_is_refused(page, stack, attacker):
    """A frame on another site posting a token: refused before any work."""
    gateway = stack["gateway"].url
    attacker.app.config["PAGE"] = (
        f'<iframe name="f"></iframe><form id="p" method="post" action="{gateway}/launch" '
        f'target="f"><input type="hidden" name="token" value="{attackers_token(stack)}"></form>'
        "<script>document.getElementById('p').submit()</script>"
    )
    # Earlier tests' background work (first projects' stop rounds read project states)
    # finishes first: the calls counted below are this request's alone.
    concurrency.wait_idle()
    sim_control(stack, "reset")
    with page.expect_response(lambda r: r.url == f"{gateway}/launch") as answered:
        page.goto(attacker.site)
    assert answered.value.status == 403  # the gateway's answer came: refused
    calls = page.request.get(f"{stack['simulator'].url}/_sim/calls").json()["calls"]
    assert not calls  # no account, no project, no token for a stranger's frame
    assert not signed_in_at_cocalc(page, stack)


def minted_new_tab(stack) -> str:
    """The attacker's plain HTTP client: his own launch redeemed "framed", a ticket asked
    for with his page's cookie, then the new-tab handoff with forged same-origin headers."""
    gateway = stack["gateway"].url
    http = requests.Session()
    framed = http.post(
        f"{gateway}/launch",
        data={"token": attackers_token(stack, sub="mallory-tab")},
        headers={"Sec-Fetch-Dest": "iframe", "Sec-Fetch-Site": "cross-site"},
        allow_redirects=False,
    )
    for cookie in http.cookies:  # requests keeps Secure cookies for https only
        cookie.secure = False
    location = framed.headers["Location"]
    http.get(location, headers={"Sec-Fetch-Dest": "iframe"}, timeout=10)
    ticket = http.post(
        location + "/new-tab/ticket", headers={"Sec-Fetch-Site": "same-origin"}, timeout=10
    ).json()["ticket"]
    minted = http.post(
        location + "/new-tab",
        data={"ticket": ticket},
        headers={"Origin": gateway, "Sec-Fetch-Site": "same-origin", "Sec-Fetch-Dest": "document"},
        allow_redirects=False,
        timeout=10,
    )
    assert minted.status_code == 303
    return minted.headers["Location"]


def test_a_victim_sent_to_a_minted_new_tab_page_is_not_signed_in(page, stack, attacker):
    target = minted_new_tab(stack)
    attacker.app.config["PAGE"] = f"<script>location.href = {json.dumps(target)};</script>"
    page.goto(attacker.site)
    page.wait_for_url(target)
    text = page.locator("body").inner_text()
    assert "another browser" in text and "Mallory Attacker" in text
    assert page.locator("#cocalc").count() == 0  # no kiosk frame, no sign-in request
    assert_no_sign_in_on(page, stack)
