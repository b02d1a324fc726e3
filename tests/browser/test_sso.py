"""OpenID Connect in Chromium, against npm oidc-provider: the demo page's "Sign in with the
demo provider" ends on the full-page notebook, signed in to the right CoCalc account."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from gateway.store.models import HostUser
from gateway.ways_in.identity import external_id
from tests.browser.conftest import ONE_DIALECT, SCREENSHOTS

pytestmark = [pytest.mark.browser, ONE_DIALECT]


def account_of(stack, subject: str) -> str:
    gw = stack["app"].extensions["gateway"]
    with gw.db.read() as session:
        return session.scalar(
            select(HostUser.account_id).where(
                HostUser.external_id == external_id("oidc", stack["oidc"].issuer, subject)
            )
        )


def test_sign_in_from_the_demo_ends_on_the_notebook_page(page, stack):
    stack["oidc"].choose("alice")
    page.goto(stack["host"].url)
    page.click("#sso-sign-in")
    page.wait_for_url(stack["gateway"].url + "/sso/notebook/*")
    page.wait_for_function("() => document.body.dataset.state === 'open'")
    assert page.locator("#signed-in-as").inner_text() == "Alice Liddell"
    assert "welcome.md" in page.frame_locator("#cocalc").locator("body").inner_text()
    cocalc = stack["simulator"].url.split("//")[1].split(":")[0]
    signed_in_as = {
        c["value"]
        for c in page.context.cookies()
        if c["name"] == "account_id" and c["domain"] == cocalc
    }
    assert signed_in_as == {account_of(stack, "alice")}
    if stack["dialect"] == "current":
        page.screenshot(path=str(SCREENSHOTS / "sso-notebook.png"))
    # Sign-out: the gateway forgets the session, the provider ends its own (RP logout).
    page.click("#sign-out")
    page.wait_for_url(stack["gateway"].url + "/sso/signed-out*")
    assert page.locator("#signed-out").is_visible()
    page.click("#sign-in-again")  # the provider asks again (its session ended): alice again
    page.wait_for_url(stack["gateway"].url + "/sso/*/notebooks")
    assert "My notebooks" in page.content()


def test_a_callback_replayed_in_another_browser_is_refused(browser, page, stack):
    """The callback URL of a finished sign-in, opened again elsewhere, signs no one in.
    (Before its first use, another browser is refused for lacking the state cookie: see
    tests/ways_in/sso/test_signin.py; Playwright cannot stop a redirect to keep it unused.)"""
    stack["oidc"].choose("bob")
    seen = []
    page.on("request", lambda r: seen.append(r.url))
    page.goto(f"{stack['gateway'].url}/sso/{stack['host_id']}/login?path=welcome.md")
    page.wait_for_url(stack["gateway"].url + "/sso/notebook/*")
    callback = next(u for u in seen if u.startswith(stack["gateway"].url + "/sso/callback"))
    other = browser.new_context()
    try:
        elsewhere = other.new_page()
        reply = elsewhere.goto(callback)
        assert reply.status == 401
        assert "used already" in elsewhere.content()
        # The only way on is a sign-in of one's own.
        back = elsewhere.locator("#back")
        assert back.count() == 0 or "/login" in back.get_attribute("href")
    finally:
        other.close()
