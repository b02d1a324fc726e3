"""Every page a person meets, audited in Chromium with axe-core (WCAG 2.0/2.1/2.2 A and AA:
zero violations), and used with the keyboard: the embed page in each of its states
(loading, open, problem, new-tab offer, moved, expired), the confirmation, error and
other-browser pages, the SSO pages, the LTI picker, hand-in and review bars, Dynamic
Registration, and the demo's pages; at 320 px wide (what 400 % zoom of a 1280 px window
gives) nothing scrolls sideways.

The markup does not depend on CoCalc's API dialect, so the audit runs once, on "current".
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from gateway import hosts
from gateway.ways_in.lti import registration
from tests.browser.accessibility import assert_accessible
from tests.browser.conftest import ONE_DIALECT, _expire_launches, launch_demo, wait_embed_frame
from tests.browser.test_login_csrf import attackers_token
from tests.browser.test_lti import course, embed_in
from tests.browser.test_lti_teaching import lms_elsewhere, picker_frame  # noqa: F401

pytestmark = [pytest.mark.browser, ONE_DIALECT]


def launch_without_waiting(page, stack, user):
    """The demo's launch, without waiting for CoCalc (which a test keeps from answering)."""
    page.goto(stack["host"].url)
    page.select_option("#user", user)
    page.select_option("#file", "welcome.md")
    page.click("#launch")
    return wait_embed_frame(page, stack)


def state_of(frame, name: str, timeout=20000) -> None:
    frame.wait_for_function(f"() => document.body.dataset.state === '{name}'", timeout=timeout)


def no_sideways_scroll(frame, where: str) -> None:
    wide = frame.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert wide[0] <= wide[1], f"{where} scrolls sideways at {wide[1]} px: {wide[0]} px wide"


def test_the_embed_page_open_loading_and_in_trouble(page, stack):
    launch_demo(page, stack)
    embed = wait_embed_frame(page, stack)
    state_of(embed, "open")
    assert_accessible(embed, "embed page, open")
    title = embed.locator("#cocalc").get_attribute("title")
    assert title == "welcome.md: CoCalc"  # the frame says which file it holds
    # Loading: CoCalc does not answer yet.
    page.route(f"{stack['simulator'].url}/projects/**", lambda route: None)
    embed = launch_without_waiting(page, stack, "bob")
    state_of(embed, "loading")
    assert embed.locator("#loading").get_attribute("role") == "status"
    assert_accessible(embed, "embed page, loading")
    page.unroute(f"{stack['simulator'].url}/projects/**")
    # A problem: CoCalc's page answers, but it is not CoCalc (the bridge never gets ready).
    page.route(
        f"{stack['simulator'].url}/projects/**",
        lambda route: route.fulfill(
            body="<html><body>not CoCalc</body></html>", content_type="text/html"
        ),
    )
    embed = launch_without_waiting(page, stack, "alice")
    embed.wait_for_function("() => !document.getElementById('problem').hidden", timeout=30000)
    assert embed.locator("#problem").get_attribute("role") == "alert"
    assert_accessible(embed, "embed page, problem")


def test_the_problem_message_takes_the_focus_and_its_buttons_follow_with_tab(page, stack):
    """At top level (the SSO notebook page): the message is focused when it shows, Tab goes
    on to "Try again" then "Show CoCalc anyway", and Escape traps nothing."""
    page.route(
        f"{stack['simulator'].url}/projects/**",
        lambda route: route.fulfill(
            body="<html><body>not CoCalc</body></html>", content_type="text/html"
        ),
    )
    stack["oidc"].choose("alice")
    page.goto(f"{stack['gateway'].url}/sso/{stack['host_id']}/login?path=welcome.md")
    page.wait_for_url(stack["gateway"].url + "/sso/notebook/*")
    page.wait_for_function("() => !document.getElementById('problem').hidden", timeout=30000)
    focused = page.evaluate("() => document.activeElement.closest('.overlay')?.id")
    assert focused == "problem"
    page.keyboard.press("Escape")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.id") == "problem-retry"
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.id") == "problem-show"
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # a visible focus
    page.keyboard.press("Enter")  # "Show CoCalc anyway" works from the keyboard
    page.wait_for_function("() => document.getElementById('problem').hidden")
    assert_accessible(page, "SSO notebook page after a problem")


def test_the_new_tab_offer_moved_and_expired_states(page, stack, lms_elsewhere):  # noqa: F811
    page.goto(f"{lms_elsewhere.url}/course/course-a?user=stu-a&path=welcome.md")
    embed = embed_in(page, stack)
    state_of(embed, "offer")
    assert_accessible(embed, "embed page, new-tab offer")
    embed.locator("#offer-open").focus()
    with page.context.expect_page() as opened:
        page.keyboard.press("Enter")  # the offer works from the keyboard
    state_of(embed, "moved")
    assert_accessible(embed, "embed page, moved to a new tab")
    tab = opened.value
    state_of(tab, "open")
    assert_accessible(tab, "embed page in its new tab")
    launch_demo(page, stack, user="bob")
    _expire_launches(stack, 3)  # the page learns its new end on its next load
    wait_embed_frame(page, stack).evaluate("() => window.location.reload()")
    embed = wait_embed_frame(page, stack)
    state_of(embed, "expired", timeout=20000)
    assert_accessible(embed, "embed page, expired")


def test_the_message_pages(browser, page, stack):
    gateway = stack["gateway"].url
    page.goto(f"{gateway}/launch?token={attackers_token(stack)}")
    assert_accessible(page, "confirmation page")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.id") == "confirm"
    page.goto(f"{gateway}/embed/" + "x" * 43)
    assert_accessible(page, "error page (404)")
    page.goto(gateway + "/")
    assert_accessible(page, "the gateway's home page")
    # Someone else's top-level page: the other-browser page names the account.
    launch_demo(page, stack)
    embed = wait_embed_frame(page, stack)
    context = browser.new_context()
    other = context.new_page()
    other.goto(embed.url)
    assert_accessible(other, "embed page of another browser")
    context.close()


def test_the_sso_pages(page, stack):
    gateway = stack["gateway"].url
    stack["oidc"].choose("alice")
    page.goto(f"{gateway}/sso/{stack['host_id']}/login?path=welcome.md")
    page.wait_for_url(gateway + "/sso/notebook/*")
    state_of(page, "open")
    assert_accessible(page, "SSO notebook page")
    page.goto(f"{gateway}/sso/{stack['host_id']}/notebooks")
    assert_accessible(page, "SSO my notebooks")
    page.click("#sign-out")
    page.wait_for_url(gateway + "/sso/signed-out*")
    assert_accessible(page, "SSO signed out")


def test_the_lti_pages(page, stack):
    lms = stack["lms_state"]
    page.goto(course(stack, user="prof-a", role="Instructor", message="deeplink"))
    picker = picker_frame(page)
    assert picker.locator("#grading").is_visible()  # the autograder's fields are checked too
    assert_accessible(picker, "Deep Linking picker")
    assert_accessible(page, "demo LMS course page")
    picker.locator("#new-path").fill("no suffix")
    picker.locator("#add-new").click()
    picker = picker_frame(page, "#picker-error")
    assert_accessible(picker, "Deep Linking picker with an error")
    assert picker.locator("#new-path").get_attribute("aria-invalid") == "true"
    page.goto(
        course(stack, user="stu-a", name="Ada", path="welcome.md", ags="items", **{"return": "1"})
    )
    embed = embed_in(page, stack)
    state_of(embed, "open")
    embed.click("#hand-in")
    embed.wait_for_function(
        "() => document.getElementById('hand-in-status').textContent.startsWith('Handed in')"
    )
    assert_accessible(embed, "embed page with hand-in bar and the way back")
    page.goto(f"{lms.url}/course/course-1/gradebook?user=prof-a&role=Instructor")
    assert_accessible(page, "demo LMS gradebook")
    page.click("a.view-submission")
    embed = embed_in(page, stack)
    state_of(embed, "open")
    embed.fill("#grade-score", "3")
    embed.press("#grade-score", "Enter")
    embed.wait_for_function(
        "() => document.getElementById('grade-status').textContent.startsWith('Saved')"
    )
    assert_accessible(embed, "review page with its grade bar")


def test_dynamic_registration_pages(page, stack):
    app, lms = stack["app"], stack["lms_state"]
    gw = app.extensions["gateway"]
    with app.app_context():
        host_id = hosts.all_hosts(gw)[0].id
        code = registration.new_code(gw, host_id, timedelta(hours=1))
    config = f"{lms.url}/.well-known/openid-configuration"
    page.goto(
        f"{stack['gateway'].url}/lti/register?code={code}&openid_configuration={config}"
        f"&registration_token={lms.registration_token}"
    )
    assert_accessible(page, "Dynamic Registration: confirm")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.id") == "register"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert_accessible(page, "Dynamic Registration: done")
    assert json.dumps(lms.registrations)  # the platform got the registration


def test_the_demo_pages(page, stack):
    page.goto(stack["host"].url)
    assert_accessible(page, "demo host page")
    page.goto(stack["lms_state"].url + "/")
    assert_accessible(page, "demo LMS home")
    # In another language, and right to left (the language links carry their own lang).
    page.goto(stack["host"].url + "/?locale=fr")
    assert page.locator("#launch").inner_text() == "Lancer"
    assert_accessible(page, "demo host page in French")
    page.goto(stack["host"].url + "/?locale=ar")
    assert page.evaluate("() => getComputedStyle(document.body).direction") == "rtl"
    assert_accessible(page, "demo host page right to left")
    page.goto(stack["lms_state"].url + "/?locale=de")
    assert_accessible(page, "demo LMS home in German")


@pytest.mark.parametrize("width", [320])
def test_at_320_px_nothing_scrolls_sideways(browser, stack, width):
    context = browser.new_context(viewport={"width": width, "height": 640})
    page = context.new_page()
    try:
        gateway = stack["gateway"].url
        page.goto(f"{gateway}/launch?token={attackers_token(stack)}")
        no_sideways_scroll(page, "confirmation page")
        page.goto(f"{gateway}/embed/" + "x" * 43)
        no_sideways_scroll(page, "error page")
        page.goto(course(stack, user="prof-w", role="Instructor", message="deeplink"))
        no_sideways_scroll(picker_frame(page), "picker")
        lms = stack["lms_state"]
        page.goto(course(stack, user="stu-w", path="welcome.md", ags="items", **{"return": "1"}))
        embed = embed_in(page, stack)
        state_of(embed, "open")
        no_sideways_scroll(embed, "embed page with its bars")
        embed.click("#hand-in")
        embed.wait_for_function(
            "() => document.getElementById('hand-in-status').textContent.startsWith('Handed in')"
        )
        page.goto(f"{lms.url}/course/course-1/gradebook?user=prof-w&role=Instructor")
        page.locator("a.view-submission").last.click()
        embed = embed_in(page, stack)
        state_of(embed, "open")
        no_sideways_scroll(embed, "review page with its grade bar")
        assert embed.locator("#grade-save").is_visible()
    finally:
        context.close()


#: WCAG 2.2's 1.4.12 Text Spacing: what a user's style sheet may set, all at once.
TEXT_SPACING = """() => {
  const style = document.createElement("style");
  style.textContent = `* { line-height: 1.5 !important; letter-spacing: 0.12em !important;
    word-spacing: 0.16em !important; } p { margin-bottom: 2em !important; }`;
  document.head.appendChild(style);
}"""

#: Text that the spacing pushed out of a box that hides or clips it (what a user loses).
CLIPPED_TEXT = """() => {
  const lost = [];
  for (const element of document.querySelectorAll("body *")) {
    const style = getComputedStyle(element);
    if (style.display === "none" || style.visibility === "hidden" || !element.offsetParent) continue;
    // Text for screen readers only (a 1 px box, on purpose) is not what a reader sees.
    if (element.clientWidth <= 1 || element.clientHeight <= 1) continue;
    const hides = ["hidden", "clip"].includes(style.overflowX) || ["hidden", "clip"].includes(style.overflowY);
    const own = [...element.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (hides && own && (element.scrollWidth > element.clientWidth + 1 ||
                         element.scrollHeight > element.clientHeight + 1)) {
      lost.push(element.id || element.className || element.tagName);
    }
  }
  return lost;
}"""


def spaced_and_whole(frame, where: str) -> None:
    frame.evaluate(TEXT_SPACING)
    assert frame.evaluate(CLIPPED_TEXT) == [], f"{where}: text clipped with WCAG text spacing"
    no_sideways_scroll(frame, where + " with WCAG text spacing")


def test_text_spacing_loses_no_text(browser, stack):
    """1.4.12: with the spacing a user's style sheet may set, no text is clipped or cut
    off, at 1280 px and at 320 px."""
    gateway = stack["gateway"].url
    # The check itself catches a box of fixed height that hides what no longer fits.
    context = browser.new_context()
    probe = context.new_page()
    probe.set_content(
        '<p id="tight" style="height: 1.2em; overflow: hidden; width: 8em">'
        "two lines of text at the least</p>"
    )
    probe.evaluate(TEXT_SPACING)
    assert probe.evaluate(CLIPPED_TEXT) == ["tight"]
    context.close()
    for width in (1280, 320):
        context = browser.new_context(viewport={"width": width, "height": 800})
        page = context.new_page()
        try:
            page.goto(f"{gateway}/launch?token={attackers_token(stack)}")
            spaced_and_whole(page, f"confirmation page at {width} px")
            page.goto(f"{gateway}/embed/" + "x" * 43)
            spaced_and_whole(page, f"error page at {width} px")
            page.goto(course(stack, user=f"stu-s{width}", path="welcome.md", ags="items"))
            embed = embed_in(page, stack)
            state_of(embed, "open")
            spaced_and_whole(embed, f"embed page with its bars at {width} px")
            page.goto(course(stack, user=f"prof-s{width}", role="Instructor", message="deeplink"))
            spaced_and_whole(picker_frame(page), f"Deep Linking picker at {width} px")
        finally:
            context.close()
