"""SAML in Chromium, against npm samlify: the discovery page (search, keyboard, axe, its
language), the sign-in at the IdP's own login form, the notebook open as the user in the
real page, and sign-out that goes through the IdP's single logout and comes back."""

from __future__ import annotations

import re
import secrets

import pytest

from gateway import hosts
from gateway.dev.saml_peer import start_idp
from gateway.ways_in.saml import idps
from tests.browser.accessibility import assert_accessible
from tests.browser.conftest import ONE_DIALECT, SCREENSHOTS

pytestmark = [pytest.mark.browser, ONE_DIALECT]


@pytest.fixture(scope="module")
def universities():
    """Two IdPs whose users sign in at their login form (no one chosen beforehand)."""
    peers = [
        start_idp(name="Zeta University", scope="zeta.example.test"),
        start_idp(name="Alpha College", scope="alpha.example.test"),
    ]
    for peer in peers:
        peer.choose(None)
    yield peers
    for peer in peers:
        peer.stop()


@pytest.fixture
def saml_host(stack, universities):
    app = stack["app"]
    gw = app.extensions["gateway"]
    with app.app_context():
        host, _ = hosts.add(gw, f"State University {secrets.token_hex(2)}", [], language=None)
        for peer in universities:
            idps.add(gw, host.id, source="url", location=peer.metadata_url)
    return host


def test_discovery_sign_in_notebook_and_sign_out(page, stack, saml_host, universities):
    gateway = stack["gateway"].url
    page.goto(f"{gateway}/saml/{saml_host.id}/login?path=welcome.md")
    assert page.locator("h1").inner_text() == "Choose your institution"
    assert_accessible(page, "SAML discovery page")
    # Keyboard only: the search field, a name, Enter picks the one match left.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "idp-search"
    page.keyboard.type("alph")
    assert page.locator("#idp-count").inner_text() == "1 institution"
    assert page.locator("#idps li:visible").count() == 1
    page.keyboard.press("Enter")
    page.wait_for_url(universities[1].base + "/sso*")
    page.select_option("#username", "alice")
    page.click("#idp-sign-in")
    page.wait_for_url(gateway + "/sso/notebook/*")
    page.wait_for_function("() => document.body.dataset.state === 'open'")
    assert page.locator("#signed-in-as").inner_text() == "Alice Liddell"
    assert "welcome.md" in page.frame_locator("#cocalc").locator("body").inner_text()
    assert_accessible(page, "SAML notebook page")
    page.screenshot(path=str(SCREENSHOTS / "saml-notebook.png"))
    # Sign-out: the gateway's session ends, the IdP's single logout answers, and back.
    page.click("#sign-out")
    page.wait_for_url(re.compile(re.escape(gateway) + r"/sso/signed-out.*"))
    assert page.locator("#signed-out").is_visible()
    assert universities[1].state()["lastLogout"]["kind"] == "request"
    # The choice is remembered: the discovery page offers Alpha College first.
    page.goto(f"{gateway}/saml/{saml_host.id}/login")
    assert page.locator("#continue-remembered").inner_text() == "Continue with Alpha College"


def test_the_discovery_page_speaks_the_users_language(page, stack, saml_host):
    gateway = stack["gateway"].url
    page.goto(f"{gateway}/saml/{saml_host.id}/login?ui_locales=de")
    assert page.locator("html").get_attribute("lang") == "de"
    heading = page.locator("h1").inner_text()
    assert heading and heading != "Choose your institution"
    page.fill("#idp-search", "nothing like this")
    count = page.locator("#idp-count").inner_text()
    assert count and count != "No institution matches"
    assert_accessible(page, "SAML discovery page (de)")


def test_what_a_screen_reader_gets_from_the_discovery_page(page, stack, saml_host):
    """No screen reader runs here: Chromium's accessibility tree (what one reads) is the
    check. The search field has its name, the count is a live status, each IdP a button."""
    page.goto(f"{stack['gateway'].url}/saml/{saml_host.id}/login")
    tree = page.locator("main").aria_snapshot()
    assert '- heading "Choose your institution" [level=1]' in tree
    assert '- searchbox "Search by name"' in tree
    assert "- status: 2 institutions" in tree
    assert '- button "Alpha College"' in tree and '- button "Zeta University"' in tree
    page.fill("#idp-search", "zeta")
    assert "- status: 1 institution" in page.locator("main").aria_snapshot()


def test_a_sign_in_at_pysaml2s_idp(page, stack):
    """The second IdP nobody here wrote, behind HTTP: its page's button posts the answer."""
    from gateway.ways_in.saml import sp
    from tests.ways_in.saml.idp_peers import Pysaml2IdpServer

    app = stack["app"]
    gw = app.extensions["gateway"]
    with app.app_context():
        host, _ = hosts.add(gw, f"Second University {secrets.token_hex(2)}", [])
        idp = Pysaml2IdpServer(sp.metadata_document(gw, host.id))
        idps.add(
            gw,
            host.id,
            source="file",
            data=idp.idp.metadata.encode(),
            allow_unencrypted=True,  # pysaml2's IdP encrypts only with 3DES, refused here
        )
    try:
        gateway = stack["gateway"].url
        page.goto(f"{gateway}/saml/{host.id}/login?path=welcome.md")
        page.wait_for_url(idp.base + "/idp/profile/SAML2/Redirect/SSO*")
        page.click("#idp-sign-in")
        page.wait_for_url(gateway + "/sso/notebook/*")
        page.wait_for_function("() => document.body.dataset.state === 'open'")
        assert page.locator("#signed-in-as").inner_text() == "Carol Danvers"
        assert "welcome.md" in page.frame_locator("#cocalc").locator("body").inner_text()
    finally:
        idp.stop()
