"""LTI 1.3 in Chromium: a course page of a real platform (``lti1p3platform`` via the shim)
launches the notebook through the gateway, with platform storage or the partitioned cookie,
Deep Linking's picker, and "Hand in"."""

from __future__ import annotations

import pytest

from tests.browser.conftest import ONE_DIALECT, SCREENSHOTS, sim_control

pytestmark = [pytest.mark.browser, ONE_DIALECT]


def course(stack, context="course-1", **params) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"{stack['lms'].url}/course/{context}?{query}"


def embed_in(page, stack, timeout=20000):
    page.wait_for_function(
        "(prefix) => [...document.querySelectorAll('iframe')].length > 0",
        arg=stack["gateway"].url,
        timeout=timeout,
    )
    deadline = page.evaluate("Date.now()") + timeout
    while page.evaluate("Date.now()") < deadline:
        for frame in page.frames:
            if frame.url.startswith(stack["gateway"].url + "/embed/"):
                return frame
        page.wait_for_timeout(50)
    raise AssertionError("no embed page in the course page")


def test_a_launch_binds_the_browser_through_platform_storage(page, stack):
    """No cookie at all (the browser forgets the login's cookie before the platform posts
    the launch): the binding value went into the platform's storage with lti.put_data and
    comes back with lti.get_data."""
    seen = []
    page.on("request", lambda r: seen.append(r.url))

    def forget_cookies(route):
        page.context.clear_cookies()
        route.continue_()

    # The storage page sends the browser to the platform's /auth itself (not a redirect),
    # so the route sees it: the moment between login and launch.
    page.route(lambda url: url.startswith(stack["lms"].url + "/auth?"), forget_cookies)
    page.goto(
        course(
            stack,
            user="stu-1",
            name="Ada%20Lovelace",
            path="welcome.md",
            storage="_parent",
            ags="1",
        )
    )
    embed = embed_in(page, stack)
    embed.wait_for_function("() => document.body.dataset.state === 'open'", timeout=20000)
    assert any(url.endswith("/lti/launch/storage") for url in seen), "\n".join(seen)
    assert embed.locator("#hand-in").is_visible()
    SCREENSHOTS.mkdir(exist_ok=True)
    if stack["dialect"] == "current":
        page.screenshot(path=str(SCREENSHOTS / "lti-launch.png"))


def test_without_platform_storage_the_partitioned_cookie_binds(page, stack):
    seen = []
    page.on("request", lambda r: seen.append(r.url))
    page.goto(course(stack, user="stu-2", path="welcome.md"))
    embed = embed_in(page, stack)
    embed.wait_for_function("() => document.body.dataset.state === 'open'", timeout=20000)
    assert not any(url.endswith("/lti/launch/storage") for url in seen)


def test_deep_linking_picker_and_hand_in(page, stack):
    page.goto(
        course(
            stack,
            user="prof",
            role="Instructor",
            name="Grace%20Hopper",
            message="deeplink",
            multiple="0",  # one at a time: a button per notebook
        )
    )
    picker = None
    for _ in range(200):
        picker = next((f for f in page.frames if f.url.endswith("/lti/launch")), None)
        if picker and picker.locator("#picker").count():
            break
        page.wait_for_timeout(50)
    assert picker is not None
    buttons = picker.locator("#picker button")
    assert "welcome.md" in buttons.all_inner_texts()
    if stack["dialect"] == "current":
        page.screenshot(path=str(SCREENSHOTS / "lti-picker.png"))
    picker.locator("#picker button", has_text="welcome.md").click()
    page.frame_locator("#tool").locator("#linked").wait_for()
    lms = stack["lms_state"]
    assert lms.deep_link_items[-1]["custom"] == {"path": "welcome.md"}
    # A learner opens the linked notebook, and hands it in.
    sim_control(stack, "reset")
    page.goto(course(stack, user="stu-3", path="welcome.md", ags="1", storage="_parent"))
    embed = embed_in(page, stack)
    embed.wait_for_function("() => document.body.dataset.state === 'open'", timeout=20000)
    embed.click("#hand-in")
    embed.wait_for_function(
        "() => document.getElementById('hand-in-status').textContent.startsWith('Handed in')"
    )
    assert lms.scores[-1]["userId"] == "stu-3"
    assert lms.scores[-1]["activityProgress"] == "Submitted"
