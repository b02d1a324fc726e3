"""Autograding in Chromium: a learner hands in from the course page, the real otter-grader
grades it in the simulator's sandbox, and the teacher's review page (from the gradebook)
shows the autograder's result, which reached the gradebook too."""

from __future__ import annotations

import re

import pytest
import requests

from gateway import hosts
from gateway.store.models import Host
from gateway.support import concurrency
from gateway.ways_in.lti import platforms
from gateway.ways_in.lti.autograding import graders
from tests.browser.accessibility import assert_accessible
from tests.browser.conftest import ONE_DIALECT, sim_control
from tests.browser.test_lti import course, embed_in
from tests.browser.test_lti_teaching import kiosk_url, picker_frame
from tests.ways_in.lti.test_autograde import CORRECT, assignment, notebook
from tests.ways_in.lti.test_autograde import pytestmark as needs

pytestmark = [pytest.mark.browser, ONE_DIALECT, needs]
__all__ = ["assignment"]  # the session fixture, shared with the LTI tests


def test_a_hand_in_is_autograded_and_the_review_page_says_so(page, stack, assignment):
    lms, app = stack["lms_state"], stack["app"]
    gw = app.extensions["gateway"]
    here = "course-autograde"
    sim_control(stack, "config", real_exec=True)
    teacher = gw.cocalc.create_project(title="Teacher's grader", start=True).project_id
    requests.put(
        f"{stack['simulator'].url}/_sim/projects/{teacher}/files/grader/autograder.zip",
        data=assignment["archive"],
        timeout=10,
    ).raise_for_status()
    with app.app_context():
        # The registration the demo LMS launches with now (other tests register it again).
        [platform] = [
            p
            for p in platforms.all_platforms(gw)
            if (p.issuer, p.client_id) == (lms.issuer, lms.client_id)
        ]
        graders.configure(
            gw, platform.id, here, f"link-{here}",
            source=f"{teacher}:grader/autograder.zip", time_limit_s=30,
        )  # fmt: skip
    # The learner: their notebook, then "Hand in" on the course page.
    page.goto(course(stack, here, user="stu-ag", path="hw/hw1.ipynb", ags="items"))
    embed = embed_in(page, stack)
    project = re.search(r"/projects/([0-9a-f-]{36})/", kiosk_url(embed)).group(1)
    gw.cocalc.write_text_file_to_project(project, "hw/hw1.ipynb", notebook(assignment, CORRECT))
    embed.click("#hand-in")
    embed.wait_for_function(
        "() => document.getElementById('hand-in-status').textContent.startsWith('Handed in')"
    )
    concurrency.wait_idle()  # the grading run, in the background
    # The LMS lives for the whole run: only this learner's scores are this test's.
    graded = [
        (s["scoreGiven"], s["scoreMaximum"])
        for s in lms.scores
        if s.get("gradingProgress") == "FullyGraded" and s.get("userId") == "stu-ag"
    ]
    assert graded == [(2.0, 2.0)]
    # The teacher, from the gradebook: the review page says what the autograder gave.
    page.goto(f"{lms.url}/course/{here}/gradebook?user=prof-ag&role=Instructor")
    page.locator("a.view-submission[href*='for_user=stu-ag']").first.click()
    embed = embed_in(page, stack)
    kiosk_url(embed)
    assert embed.locator("#autograde").inner_text() == "Autograded: 2 of 2"
    assert_accessible(embed, "review page with the autograder's result")


def test_a_teacher_picks_a_notebook_with_its_grader_using_the_keyboard(page, stack, assignment):
    """The Deep Linking picker, with the keyboard: the grader (otter-grader), its archive in
    the course template, a time limit, then the notebook. The link's first launch attaches
    the grader, and the learner's hand-in is graded."""
    lms, app = stack["lms_state"], stack["app"]
    gw = app.extensions["gateway"]
    here = "course-picked-grader"
    sim_control(stack, "config", real_exec=True)
    with app.app_context():
        [platform] = [
            p
            for p in platforms.all_platforms(gw)
            if (p.issuer, p.client_id) == (lms.issuer, lms.client_id)
        ]
    # A course template of this test's own, which copies only the notebook into learners'
    # projects (never the grader's archive); the demo's is put back afterwards.
    template = gw.cocalc.create_project(title="Graded course", start=True).project_id
    gw.cocalc.write_text_file_to_project(template, "hw/hw1.ipynb", assignment["student"])
    requests.put(
        f"{stack['simulator'].url}/_sim/projects/{template}/files/grader/autograder.zip",
        data=assignment["archive"],
        timeout=10,
    ).raise_for_status()
    with gw.db.begin() as session:
        host = session.get(Host, platform.host_id)
        kept = (host.template_project_id, host.template_paths)
        host.template_project_id, host.template_paths = template, ["hw/hw1.ipynb"]
    hosts.forget_cached(gw, platform.host_id)
    try:
        _pick_and_hand_in(page, stack, assignment, here)
    finally:
        with gw.db.begin() as session:
            host = session.get(Host, platform.host_id)
            host.template_project_id, host.template_paths = kept
        hosts.forget_cached(gw, platform.host_id)


def _pick_and_hand_in(page, stack, assignment, here):
    lms, gw = stack["lms_state"], stack["app"].extensions["gateway"]
    page.goto(course(stack, here, user="prof-pk", role="Instructor", message="deeplink",
                     multiple="0"))  # fmt: skip
    picker = picker_frame(page, "#grading")
    picker.locator("#grader").focus()
    page.keyboard.press("ArrowDown")  # None → nbgrader
    page.keyboard.press("ArrowDown")  # → otter-grader
    assert picker.locator("#grader").input_value() == "otter"
    page.keyboard.press("Tab")
    page.keyboard.type("grader/autograder.zip")
    page.keyboard.press("Tab")
    page.keyboard.press("Control+A")
    page.keyboard.type("30")
    made = len(lms.deep_link_items)
    picker.locator("button[name=path][value='hw/hw1.ipynb']").focus()
    page.keyboard.press("Enter")
    deadline = page.evaluate("Date.now()") + 20000
    while len(lms.deep_link_items) == made and page.evaluate("Date.now()") < deadline:
        page.wait_for_timeout(50)
    item = lms.deep_link_items[made]
    assert item["custom"]["path"] == "hw/hw1.ipynb" and item["custom"].get("autograde")
    # A learner opens the new link, and hands in.
    page.goto(course(stack, here, user="stu-pk", item=str(made), resource="dl-pk", ags="items"))
    embed = embed_in(page, stack)
    project = re.search(r"/projects/([0-9a-f-]{36})/", kiosk_url(embed)).group(1)
    files = requests.get(f"{stack['simulator'].url}/_sim/projects/{project}", timeout=10)
    assert "grader/autograder.zip" not in files.json()["files"]  # the template kept it back
    gw.cocalc.write_text_file_to_project(project, "hw/hw1.ipynb", notebook(assignment, CORRECT))
    embed.click("#hand-in")
    embed.wait_for_function(
        "() => document.getElementById('hand-in-status').textContent.startsWith('Handed in')"
    )
    concurrency.wait_idle()
    graded = [
        (s["scoreGiven"], s["scoreMaximum"])
        for s in lms.scores
        if s.get("gradingProgress") == "FullyGraded" and s.get("userId") == "stu-pk"
    ]
    assert graded == [(2.0, 2.0)]
