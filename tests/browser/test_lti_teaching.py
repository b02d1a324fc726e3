"""LTI beyond the launch in Chromium, inside the shim's platform: a teacher follows a hand-in
from the gradebook and grades it with the keyboard; Deep Linking of several notebooks and
of a new one; and a full-window launch where a framed sign-in cannot work."""

from __future__ import annotations

import pytest

from gateway import hosts
from gateway.dev.devserver import ThreadedServer
from gateway.dev.lms import LmsState, create_lms_app
from gateway.ways_in.lti import platforms
from tests.browser.conftest import ONE_DIALECT
from tests.browser.test_lti import course, embed_in

pytestmark = [pytest.mark.browser, ONE_DIALECT]


def kiosk_url(embed) -> str:
    embed.wait_for_function("() => document.body.dataset.state === 'open'", timeout=20000)
    return embed.evaluate("() => document.getElementById('cocalc').src")


def picker_frame(page, ready: str = "#new-notebook"):
    """The Deep Linking picker in the course page's tool frame, once `ready` is in it. The
    frame is the same across its navigations (the picker's own forms post to /lti/deep-link),
    so waiting in it never picks up the page that was there before."""
    frame = page.wait_for_selector("#tool", timeout=20000).content_frame()
    frame.wait_for_selector(ready, timeout=20000)
    return frame


def test_a_teacher_follows_a_hand_in_from_the_gradebook_and_grades_it(page, stack):
    lms = stack["lms_state"]
    # A course of this test's own: the gradebook lists only its hand-in (the stack, and its
    # LMS, live for the whole run).
    here = "course-grading"
    page.goto(
        course(stack, here, user="stu-g", name="Ada%20Lovelace", path="welcome.md", ags="items")
    )
    embed = embed_in(page, stack)
    kiosk_url(embed)
    embed.click("#hand-in")
    embed.wait_for_function(
        "() => document.getElementById('hand-in-status').textContent.startsWith('Handed in')"
    )
    # The gradebook: the gateway's line item offers "view submission".
    page.goto(f"{lms.url}/course/{here}/gradebook?user=prof-g&role=Instructor")
    link = page.locator("a.view-submission[href*='for_user=stu-g']").first
    link.focus()
    page.keyboard.press("Enter")
    embed = embed_in(page, stack)
    src = kiosk_url(embed)
    assert "/files/hand-in/" in src and src.split("?")[0].endswith("/welcome.md")
    assert "Ada Lovelace" in embed.locator("#review-of").inner_text()
    # Grade with the keyboard only: the score field, out of, comment, then Enter.
    embed.locator("#grade-score").focus()
    page.keyboard.type("17")
    page.keyboard.press("Tab")
    page.keyboard.press("Control+A")
    page.keyboard.type("20")
    page.keyboard.press("Tab")
    page.keyboard.type("Well argued")
    page.keyboard.press("Enter")
    status = embed.locator("#grade-status")
    status.wait_for(state="visible")
    embed.wait_for_function(
        "() => document.getElementById('grade-status').textContent.startsWith('Saved')"
    )
    graded = lms.scores[-1]
    assert (graded["userId"], graded["scoreGiven"], graded["scoreMaximum"]) == ("stu-g", 17, 20)
    assert graded["gradingProgress"] == "FullyGraded"
    assert embed.locator("#grade-status").get_attribute("role") == "status"
    page.keyboard.press("Enter")  # the same grade again: nothing new in the gradebook
    embed.wait_for_function(
        "() => document.getElementById('grade-status').textContent.includes('already')"
    )
    assert lms.scores[-1] is graded


def test_a_teacher_links_several_notebooks_then_a_new_one(page, stack):
    lms = stack["lms_state"]
    before = len(lms.deep_link_items)
    page.goto(course(stack, user="prof-d", role="Instructor", message="deeplink"))
    picker = picker_frame(page)
    boxes = picker.locator("#picker input[type=checkbox]")
    assert boxes.count() >= 1
    boxes.first.focus()
    page.keyboard.press("Space")
    picker.locator("#add-chosen").click()
    page.frame_locator("#tool").locator("#linked").wait_for()
    added = lms.deep_link_items[before:]
    assert [i["custom"]["path"] for i in added] == [boxes_value(stack)]
    # A new notebook, named with the keyboard.
    page.goto(course(stack, user="prof-d", role="Instructor", message="deeplink"))
    picker = picker_frame(page)
    picker.locator("#new-path").focus()
    page.keyboard.type("week3/lab.ipynb")
    page.keyboard.press("Enter")
    page.frame_locator("#tool").locator("#linked").wait_for()
    assert lms.deep_link_items[-1]["custom"] == {"path": "week3/lab.ipynb", "new": "notebook"}
    # A learner opens it: a blank notebook of that name, made at this first launch.
    page.goto(course(stack, user="stu-d", path="week3/lab.ipynb", new="notebook"))
    assert kiosk_url(embed_in(page, stack)).split("?")[0].endswith("/week3/lab.ipynb")


def boxes_value(stack) -> str:
    """The first file the demo LMS host's catalogue offers (its template's first file)."""
    from gateway.launches import catalogue

    app = stack["app"]
    gw = app.extensions["gateway"]
    with app.app_context():
        host = next(h for h in hosts.all_hosts(gw) if h.name == "Demo LMS course")
        return catalogue.offer(gw, host)[0]


@pytest.fixture
def lms_elsewhere(stack):
    """A platform on http://localhost:PORT: another site than the gateway and CoCalc, so a
    framed sign-in cannot work there, and its course page takes a full-window request."""
    server = ThreadedServer()
    state = LmsState(tool_url=stack["gateway"].url, client_id="elsewhere")
    state.url = f"http://localhost:{server.port}"
    server.start(create_lms_app(state))
    app = stack["app"]
    gw = app.extensions["gateway"]
    with app.app_context():
        host, _ = hosts.add(gw, "Elsewhere LMS", [state.url])
        values = state.gateway_commands(host.id)
        platforms.add(gw, values.pop("host_id"), **values)
    yield state
    server.stop()


def test_where_a_framed_sign_in_cannot_work_the_lms_launches_the_full_window(
    page, stack, lms_elsewhere
):
    page.goto(f"{lms_elsewhere.url}/course/course-f?user=stu-f&path=welcome.md&fullwindow=1")
    page.wait_for_url(f"{stack['gateway'].url}/embed/**", timeout=20000)
    assert page.evaluate("() => window.top === window")  # at top level now
    src = page.evaluate(
        "() => new Promise((resolve) => { const check = () => document.body.dataset.state === 'open'"
        " ? resolve(document.getElementById('cocalc').src) : setTimeout(check, 50); check(); })"
    )
    assert src.split("?")[0].endswith("/welcome.md")  # the framed page's file, resumed


def test_without_the_full_window_message_the_new_tab_is_offered(page, stack, lms_elsewhere):
    page.goto(f"{lms_elsewhere.url}/course/course-f?user=stu-n&path=welcome.md")
    embed = embed_in(page, stack)
    embed.wait_for_function("() => document.body.dataset.state === 'offer'", timeout=20000)
    assert embed.locator("#offer-open").is_visible()
    assert page.url.startswith(lms_elsewhere.url)  # nobody navigated the course page


def test_back_to_the_course_leads_to_the_platform_s_return_url(page, stack):
    page.goto(course(stack, user="stu-b", path="welcome.md", **{"return": "1"}))
    embed = embed_in(page, stack)
    kiosk_url(embed)
    embed.locator("#back-to-course").focus()
    page.keyboard.press("Enter")
    tool = page.frame_locator("#tool")
    tool.locator("#returned").wait_for()
    assert "course-1" in tool.locator("#returned").inner_text()
