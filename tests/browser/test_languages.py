"""In Chromium: the OpenID Connect way in's ``ui_locales`` gives the notebook page its
language, the page's script speaks it too (its messages come with the page), and a
right-to-left page is laid out right to left; axe-core still finds nothing."""

from __future__ import annotations

import pytest

from tests.browser.accessibility import assert_accessible
from tests.browser.conftest import ONE_DIALECT

pytestmark = [pytest.mark.browser, ONE_DIALECT]


def _not_cocalc(page, stack):
    """CoCalc's page answers, but it is not CoCalc: the page's script shows a problem."""
    page.route(
        f"{stack['simulator'].url}/projects/**",
        lambda route: route.fulfill(body="<html><body>no</body></html>", content_type="text/html"),
    )


def _sign_in(page, stack, ui_locales: str) -> None:
    stack["oidc"].choose("alice")
    gateway = stack["gateway"].url
    page.goto(f"{gateway}/sso/{stack['host_id']}/login?path=welcome.md&ui_locales={ui_locales}")
    page.wait_for_url(gateway + "/sso/notebook/*")


def test_a_sign_in_asking_for_spanish_gets_spanish_pages_and_script_messages(page, stack):
    _not_cocalc(page, stack)
    _sign_in(page, stack, "es-MX es")
    assert page.evaluate("() => [document.documentElement.lang, document.dir]") == ["es-MX", "ltr"]
    assert page.locator("#my-notebooks").inner_text() == "Mis cuadernos"
    page.wait_for_function("() => !document.getElementById('problem').hidden", timeout=30000)
    # Written by the page's script, from the catalogue's messages.
    assert page.locator("#problem-title").inner_text() == "CoCalc no respondió"
    assert page.locator("#problem-retry").inner_text() == "Reintentar"
    assert_accessible(page, "SSO notebook page in Spanish, with a problem")
    page.unroute(f"{stack['simulator'].url}/projects/**")
    page.click("#my-notebooks")
    assert "1 proyecto en este sitio del curso" in page.locator("main").inner_text()


def test_a_right_to_left_language_lays_the_page_out_right_to_left(page, stack):
    _sign_in(page, stack, "ar")
    assert page.evaluate("() => [document.documentElement.lang, document.dir]") == ["ar", "rtl"]
    # The bar's first item sits at the right edge.
    bar = page.evaluate(
        "() => [document.querySelector('.notebook-bar strong').getBoundingClientRect().right,"
        " document.documentElement.clientWidth]"
    )
    assert bar[1] - bar[0] < 40, bar
    page.wait_for_function("() => document.body.dataset.state === 'open'", timeout=20000)
    assert_accessible(page, "SSO notebook page, right to left")
