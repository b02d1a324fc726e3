"""LTI beyond the launch, against a real platform (``lti1p3platform`` through the shim):
submission review from the gradebook, grades from the review page, the way back to the
course, and the attacks on each new URL."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from sqlalchemy import select, update

from gateway.store.lti_tables import LtiGradeLink, LtiHandIn, LtiScore
from gateway.store.models import Launch, utcnow
from gateway.support.keys import digest
from tests.ways_in.lti.test_advantage import SAME_ORIGIN, account_of, project_of

CROSS_SITE = {"Sec-Fetch-Site": "cross-site", "Accept": "application/json"}


def page_key(url: str) -> str:
    return urlsplit(url).path.rsplit("/", 1)[-1]


def hand_in(lti, agent, user="stu-1", name="Ada%20Lovelace", path="hw/one.ipynb") -> dict:
    """A learner launches a link whose line item the gateway must find or make, and hands in."""
    page = agent.open(lti.course_launch(user=user, name=name, path=path, ags="items"))
    assert 'id="hand-in"' in page.text, page.text[:300]
    project = project_of(lti, user)
    lti.gw.cocalc.write_text_file_to_project(project, path, '{"cells": ["mine"]}')
    reply = agent.http.post(page.url + "/hand-in", headers=SAME_ORIGIN)
    assert reply.status_code == 201, reply.text
    return {"project": project, **reply.json()}


def review(lti, agent, lineitem: str, *, user="prof", role="Instructor", for_user="stu-1", **extra):
    return agent.open(
        lti.course_launch(
            user=user,
            role=role,
            message="review",
            for_user=for_user,
            lineitem=quote(lineitem, safe=""),
            **extra,
        )
    )


def grade(agent, page_url: str, headers=SAME_ORIGIN, **form):
    return agent.http.post(page_url + "/grade", data=form, headers=headers)


def the_line_item(lti) -> dict:
    [item] = lti.lms.line_items.values()
    return item


def test_the_gateway_s_line_items_offer_a_submission_review(lti, agent):
    hand_in(lti, agent)
    item = the_line_item(lti)
    assert item["submissionReview"] == {
        "reviewableStatus": ["Submitted", "Completed"],
        "label": "Open the hand-in in CoCalc",
        "url": lti.url + "/lti/launch",
    }


def test_a_teacher_reviews_the_latest_hand_in_signed_in_as_themselves(lti, agent):
    """The gradebook's "view submission": the teacher's page opens the learner's hand-in
    copy (read-only) in the learner's project, with the learner's name; no other file."""
    first = hand_in(lti, agent)
    # The first hand-in was a day ago (past the double-click guard, and older).
    with lti.gw.db.begin() as session:
        session.execute(update(LtiGradeLink).values(handed_in_at=utcnow() - timedelta(days=1)))
        session.execute(
            update(LtiHandIn).values(
                handed_in_at=utcnow() - timedelta(days=1), path="hand-in/old/hw/one.ipynb"
            )
        )
    again = agent.open(lti.course_launch(user="stu-1", path="hw/one.ipynb", ags="items"))
    latest = agent.http.post(again.url + "/hand-in", headers=SAME_ORIGIN)
    assert latest.status_code == 201, latest.text
    latest_path = latest.json()["path"]
    project = lti.sim.project(first["project"])
    assert latest_path in project["read_only"]  # CoCalc shows it read-only
    assert "hw/one.ipynb" not in project["read_only"]  # the working copy stays writable

    teacher = review(lti, agent, the_line_item(lti)["id"], name="Grace%20Hopper")
    assert "/embed/" in teacher.url, teacher.text[:400]
    assert "Hand-in of <strong>Ada Lovelace</strong>" in teacher.text
    assert 'id="grade-form"' in teacher.text
    with lti.gw.db.read() as session:
        launch = session.scalar(
            select(Launch).where(Launch.digest == digest(page_key(teacher.url)))
        )
    assert launch.path == latest_path
    # Signed in as the teacher (a token of the teacher's account), on the learner's project,
    # which the teacher collaborates on now, in this request.
    assert account_of(lti, "prof") in lti.sim.project(first["project"])["collaborators"]
    assert f"/projects/{first['project']}/files/{latest_path}" in unescape(teacher.text)


def test_a_learner_s_review_request_opens_only_their_own_work(lti, agent):
    hand_in(lti, agent)
    hand_in(lti, agent, user="stu-2", name="Alan%20Turing")
    lineitem = the_line_item(lti)["id"]
    other = review(lti, agent, lineitem, user="stu-2", role="Learner", for_user="stu-1")
    assert other.status_code == 403, other.text[:300]
    assert "Ada" not in other.text
    own = review(lti, agent, lineitem, user="stu-2", role="Learner", for_user="stu-2")
    assert "/embed/" in own.url
    assert "Hand-in of <strong>Alan Turing</strong>" in own.text
    assert 'id="grade-form"' not in own.text  # learners do not grade
    graded = agent.http.post(
        own.url + "/grade", data={"score": 10, "maximum": 10}, headers=SAME_ORIGIN
    )
    assert graded.status_code == 404


def test_a_review_of_someone_who_never_launched_is_a_clear_404(lti, agent):
    hand_in(lti, agent)
    missing = review(lti, agent, the_line_item(lti)["id"], for_user="nobody")
    assert missing.status_code == 404
    assert "nothing to review" in missing.text


def test_a_review_of_a_learner_who_did_not_hand_in_opens_their_working_copy(lti, agent):
    hand_in(lti, agent)
    agent.open(lti.course_launch(user="late", name="Late%20Comer", path="hw/one.ipynb"))
    page = review(lti, agent, the_line_item(lti)["id"], for_user="late", path="hw/one.ipynb")
    assert "/embed/" in page.url
    assert "nothing handed in yet" in page.text


def test_grades_post_fully_graded_once_and_report_what_the_lms_answered(lti, agent):
    hand_in(lti, agent)
    page = review(lti, agent, the_line_item(lti)["id"])
    grade_url = page.url + "/grade"
    posted = agent.http.post(
        grade_url,
        data={"score": "8.5", "maximum": "10", "comment": "Good work"},
        headers=SAME_ORIGIN,
    )
    assert posted.status_code == 200, posted.text
    assert posted.json() == {"status": "posted", "lms_status": 200}
    score = lti.lms.scores[-1]
    assert score["userId"] == "stu-1"
    assert (score["scoreGiven"], score["scoreMaximum"]) == (8.5, 10.0)
    assert score["gradingProgress"] == "FullyGraded"
    assert score["activityProgress"] == "Completed"
    assert score["comment"] == "Good work"
    count = len(lti.lms.scores)
    again = agent.http.post(
        grade_url,
        data={"score": "8.5", "maximum": "10", "comment": "Good work"},
        headers=SAME_ORIGIN,
    )
    assert again.json() == {"status": "unchanged", "lms_status": None}
    assert len(lti.lms.scores) == count  # the same grade twice: no second post
    changed = grade(agent, page.url, score="9", maximum="10")
    assert changed.json()["status"] == "posted" and len(lti.lms.scores) == count + 1
    with lti.gw.db.read() as session:
        assert session.scalar(select(LtiScore.score_given)) == 9.0


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"score": "ten", "maximum": "10"}, "score"),
        ({"score": "-1", "maximum": "10"}, "score"),
        ({"score": "nan", "maximum": "10"}, "score"),
        ({"score": "1", "maximum": "0"}, "maximum"),
        ({"score": "1"}, "maximum"),
        ({"score": "1e400", "maximum": "10"}, "score"),
        ({"score": "500", "maximum": "10"}, "score"),
        ({"score": "1", "maximum": "10", "comment": "x" * 2001}, "comment"),
    ],
)
def test_a_bad_grade_is_a_clear_400_and_posts_nothing(lti, agent, form, field):
    hand_in(lti, agent)
    page = review(lti, agent, the_line_item(lti)["id"])
    count = len(lti.lms.scores)
    reply = grade(agent, page.url, **form)
    assert reply.status_code == 400
    assert reply.json()["error"]["field"] == field
    assert len(lti.lms.scores) == count


def test_attack_a_grade_posted_from_another_site_or_with_a_learner_s_key(lti, agent):
    """The grade URL is the page's: another site's form is refused before anything, and a
    learner's own page (or a plain launch's) cannot grade at all."""
    hand_in(lti, agent)
    teacher = review(lti, agent, the_line_item(lti)["id"])
    count = len(lti.lms.scores)
    forged = agent.http.post(
        teacher.url + "/grade", data={"score": 1, "maximum": 1}, headers=CROSS_SITE
    )
    assert forged.status_code == 403
    plain = agent.open(lti.course_launch(user="stu-1", path="hw/one.ipynb", ags="items"))
    as_learner = agent.http.post(
        plain.url + "/grade", data={"score": 100, "maximum": 1}, headers=SAME_ORIGIN
    )
    assert as_learner.status_code == 404
    assert len(lti.lms.scores) == count


def test_attack_a_forged_review_launch_is_refused_before_anyone_is_provisioned(lti, agent):
    """A review request signed by the platform is the only way in: a crafted id_token (the
    platform's claims, another key) is refused like any launch, and makes no CoCalc call."""
    hand_in(lti, agent)
    lti.lms.tamper["key"] = "other"
    calls = lti.sim.total_calls()
    forged = review(lti, agent, the_line_item(lti)["id"])
    assert forged.status_code in (400, 401)
    assert lti.sim.total_calls() == calls


def test_hand_ins_are_kept_per_learner_with_their_line_item(lti, agent):
    hand_in(lti, agent)
    with lti.gw.db.read() as session:
        [row] = session.scalars(select(LtiHandIn)).all()
    assert row.subject == "stu-1" and row.lineitem_url == the_line_item(lti)["id"]


def test_the_way_back_to_the_course_is_on_the_page_and_on_errors(lti, agent):
    page = agent.open(lti.course_launch(user="stu-1", path="a.ipynb", **{"return": "1"}))
    back = re.search(r'<a href="([^"]+)" id="back-to-course">', page.text)
    assert back and unescape(back.group(1)) == f"{lti.lms.url}/course/course-1/return"
    hand_in(lti, agent)
    refused = review(
        lti, agent, the_line_item(lti)["id"], user="stu-2", role="Learner", **{"return": "1"}
    )
    assert refused.status_code == 403
    link = re.search(r'<a href="([^"]+)" id="back">Back to the course</a>', refused.text)
    assert link, refused.text[:500]
    query = parse_qs(urlsplit(unescape(link.group(1))).query)
    assert "teachers may review" in query["lti_errormsg"][0]
    returned = agent.open(unescape(link.group(1)))
    assert "teachers may review" in returned.text


def test_a_return_url_that_is_not_a_web_address_is_never_a_link():
    from gateway.ways_in.lti import claims as c
    from gateway.ways_in.lti import presentation

    for bad in ("javascript:alert(1)", "data:text/html,x", "http://evil.example/", 7):
        shown = presentation.of({c.LAUNCH_PRESENTATION: {"return_url": bad}})
        assert shown.return_url is None, bad


# -- a full-window launch (Canvas's lti.requestFullWindowLaunch) -----------------------------
def full_window_url(agent, page_url: str, headers=SAME_ORIGIN):
    return agent.http.post(page_url + "/full-window", headers=headers)


def test_a_full_window_launch_goes_on_with_the_framed_page_s_file_once(lti, agent):
    framed = agent.open(lti.course_launch(user="stu-1", path="hw/deep/one.ipynb"))
    asked = full_window_url(agent, framed.url)
    assert asked.status_code == 200, asked.text
    url = asked.json()["url"]
    assert url.startswith(lti.url + "/lti/launch?resume=")
    # The LMS launches that URL as a new launch of the same user, without the link's path.
    again = agent.open(lti.course_launch(user="stu-1", target=quote(url, safe="")))
    assert "/embed/" in again.url, again.text[:300]
    with lti.gw.db.read() as session:
        launch = session.scalar(select(Launch).where(Launch.digest == digest(page_key(again.url))))
    assert launch.path == "hw/deep/one.ipynb"
    # Used once: the same URL again opens what a launch without a path opens.
    third = agent.open(lti.course_launch(user="stu-1", target=quote(url, safe="")))
    with lti.gw.db.read() as session:
        launch = session.scalar(select(Launch).where(Launch.digest == digest(page_key(third.url))))
    assert launch.path != "hw/deep/one.ipynb"


def test_attack_a_resume_key_in_another_user_s_launch_chooses_nothing(lti, agent):
    framed = agent.open(lti.course_launch(user="stu-1", path="secret/answers.ipynb"))
    url = full_window_url(agent, framed.url).json()["url"]
    other = agent.open(lti.course_launch(user="stu-2", target=quote(url, safe="")))
    assert "/embed/" in other.url
    with lti.gw.db.read() as session:
        launch = session.scalar(select(Launch).where(Launch.digest == digest(page_key(other.url))))
    assert launch.path != "secret/answers.ipynb"
    assert project_of(lti, "stu-2") != project_of(lti, "stu-1")


def test_attack_the_full_window_url_is_only_for_the_page_itself(lti, agent):
    framed = agent.open(lti.course_launch(user="stu-1", path="a.ipynb"))
    assert full_window_url(agent, framed.url, CROSS_SITE).status_code == 403
    assert full_window_url(agent, lti.url + "/embed/" + "x" * 43).status_code == 404


def test_attack_a_top_level_review_page_s_url_grades_nothing_in_another_client(lti, agent):
    """A review the LMS opened in a window of its own is a top-level page bound to that
    browser: whoever gets its URL (pasted into a chat) and forges same-origin headers gets
    403 for a grade or a hand-in; the browser it is bound to still grades."""
    from tests.ways_in.lti.conftest import Agent

    hand_in(lti, agent)
    lineitem = the_line_item(lti)["id"]
    agent.http.headers["Sec-Fetch-Dest"] = "document"  # the platform opened a window
    teacher = review(lti, agent, lineitem)
    del agent.http.headers["Sec-Fetch-Dest"]
    with lti.gw.db.read() as session:
        kind = session.scalar(
            select(Launch.kind).where(Launch.digest == digest(page_key(teacher.url)))
        )
    assert kind == "top"
    stranger = Agent()
    count = len(lti.lms.scores)
    stolen = grade(stranger, teacher.url, score=0, maximum=10)
    assert stolen.status_code == 403
    assert stranger.http.post(teacher.url + "/hand-in", headers=SAME_ORIGIN).status_code == 403
    assert len(lti.lms.scores) == count
    own = grade(agent, teacher.url, score=10, maximum=10)
    assert own.status_code == 200, own.text


# -- Canvas: the hand-in in SpeedGrader -----------------------------------------------------

CANVAS_SUBMISSION = "https://canvas.instructure.com/lti/submission"


def canvas_hand_in(lti, agent, user="stu-1", path="hw/one.ipynb") -> dict:
    page = agent.open(
        lti.course_launch(user=user, name="Ada%20Lovelace", path=path, ags="items", family="canvas")
    )
    assert 'id="hand-in"' in page.text, page.text[:300]
    project = project_of(lti, user)
    lti.gw.cocalc.write_text_file_to_project(project, path, '{"cells": ["mine"]}')
    reply = agent.http.post(page.url + "/hand-in", headers=SAME_ORIGIN)
    assert reply.status_code == 201, reply.text
    return {"project": project, **reply.json()}


def test_on_canvas_a_hand_in_is_a_submission_speedgrader_opens(lti, agent):
    """The score post carries Canvas's submission extension (its documented shape), and
    SpeedGrader's launch of its submission_data opens that hand-in for the teacher."""
    done = canvas_hand_in(lti, agent)
    [posted] = lti.lms.scores
    extension = posted[CANVAS_SUBMISSION]
    assert set(extension) == {
        "new_submission",
        "submission_type",
        "submission_data",
        "submitted_at",
    }
    assert extension["new_submission"] is True
    assert extension["submission_type"] == "basic_lti_launch"
    assert re.fullmatch(
        re.escape(lti.url) + r"/lti/launch\?hand_in=\d+", extension["submission_data"]
    )
    assert extension["submitted_at"].startswith(done["handed_in_at"][:19])
    assert (posted["activityProgress"], posted["gradingProgress"]) == ("Submitted", "PendingManual")
    # SpeedGrader: the teacher's launch of submission_data opens the read-only copy.
    teacher = agent.open(
        lti.course_launch(
            user="prof", role="Instructor", family="canvas",
            target=quote(extension["submission_data"], safe=""),
        )
    )  # fmt: skip
    assert teacher.status_code == 200, teacher.text[:500]
    assert done["path"] in unescape(teacher.text)
    assert "Hand-in of <strong>Ada Lovelace</strong>" in teacher.text
    assert 'id="grade-form"' not in teacher.text  # SpeedGrader grades in Canvas itself
    assert account_of(lti, "prof") != account_of(lti, "stu-1")


def test_elsewhere_a_hand_in_carries_no_canvas_extension(lti, agent):
    hand_in(lti, agent)
    [posted] = lti.lms.scores
    assert CANVAS_SUBMISSION not in posted


@pytest.mark.parametrize("who", ["learner", "other-course", "unknown"])
def test_attack_a_speedgrader_url_opens_nothing_it_should_not(lti, agent, who):
    canvas_hand_in(lti, agent)
    data = lti.lms.scores[0][CANVAS_SUBMISSION]["submission_data"]
    if who == "unknown":
        data = re.sub(r"hand_in=\d+", "hand_in=999999", data)
    launch = {
        "learner": dict(user="stu-2", role="Learner"),
        "other-course": dict(user="prof2", role="Instructor", context="course-2"),
        "unknown": dict(user="prof", role="Instructor"),
    }[who]
    context = launch.pop("context", "course-1")
    page = agent.open(
        lti.course_launch(context, family="canvas", target=quote(data, safe=""), **launch)
    )
    assert page.status_code in (403, 404), page.text[:500]
    assert "hand-in/" not in unescape(page.text)
