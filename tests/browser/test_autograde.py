"""Autograding in Chromium: a learner hands in from the course page, the real otter-grader
grades it in the simulator's sandbox, and the teacher's review page (from the gradebook)
shows the autograder's result, which reached the gradebook too."""

from __future__ import annotations

import re

import pytest
import requests

from gateway.support import concurrency
from gateway.ways_in.lti import platforms
from gateway.ways_in.lti.autograding import graders
from tests.browser.accessibility import assert_accessible
from tests.browser.conftest import ONE_DIALECT, sim_control
from tests.browser.test_lti import course, embed_in
from tests.browser.test_lti_teaching import kiosk_url
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
