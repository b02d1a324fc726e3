"""The attacks on LTI's teaching features, each against the real platform peer: a learner's
sub-role that looks like staff, reviews of staff, a learner's Deep Linking, a resume key in
another launch, control characters in grades, and a removed host's open pages."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from sqlalchemy import select

from gateway import hosts
from gateway.store.lti_tables import ContextStaff, LtiScore, StaffGrant
from gateway.store.models import HostUser, Launch
from gateway.support.keys import digest
from gateway.ways_in.lti import identity
from tests.ways_in.lti.test_advantage import SAME_ORIGIN, project_of
from tests.ways_in.lti.test_content import graded_course, push
from tests.ways_in.lti.test_review import (
    full_window_url,
    grade,
    hand_in,
    page_key,
    review,
    the_line_item,
)

M = "http://purl.imsglobal.org/vocab/lis/v2/membership"
LEARNER_NAMED_INSTRUCTOR = quote(M + "/Learner#Instructor", safe="")


def user_row(lti, sub):
    with lti.gw.db.read() as session:
        return session.scalar(
            select(HostUser).where(HostUser.external_id == identity.user_id(lti.lms.issuer, sub))
        )


def test_a_learner_whose_sub_role_is_named_instructor_is_no_staff(lti, agent):
    """The finding: ``membership/Learner#Instructor`` counted as staff. Such a learner
    opens no classmate's hand-in, becomes no collaborator, grades nothing, links nothing."""
    hand_in(lti, agent)  # stu-1's work, which the attacker wants
    lineitem = the_line_item(lti)["id"]
    plain = agent.open(lti.course_launch(user="mallory", role=LEARNER_NAMED_INSTRUCTOR))
    assert "/embed/" in plain.url
    mallory = user_row(lti, "mallory")
    with lti.gw.db.read() as session:
        assert not session.scalars(select(ContextStaff)).all()
        assert not session.scalars(
            select(StaffGrant).where(StaffGrant.staff_user_id == mallory.id)
        ).all()
    scores = len(lti.lms.scores)
    peek = review(lti, agent, lineitem, user="mallory", role=LEARNER_NAMED_INSTRUCTOR)
    assert peek.status_code == 403 and "/embed/" not in peek.url
    assert mallory.account_id not in lti.sim.project(project_of(lti, "stu-1"))["collaborators"]
    picker = agent.open(
        lti.course_launch(user="mallory", role=LEARNER_NAMED_INSTRUCTOR, message="deeplink")
    )
    assert picker.status_code == 403 and 'name="path"' not in picker.text
    assert len(lti.lms.scores) == scores


def test_a_review_names_only_a_learner_never_staff(lti, agent):
    """A teaching assistant's review ``for_user`` the instructor would open the
    instructor's own project and make the assistant its collaborator: refused, whether the
    platform says the user is staff or the gateway knows it from their launches."""
    instructor = agent.open(lti.course_launch(user="prof", role="Instructor"))
    assert "/embed/" in instructor.url
    hand_in(lti, agent)
    lineitem = the_line_item(lti)["id"]
    known = review(lti, agent, lineitem, user="ta", role="TeachingAssistant", for_user="prof")
    assert known.status_code == 403 and "learner" in known.text
    said = review(
        lti, agent, lineitem, user="ta", role="TeachingAssistant", for_user="stu-1",
        for_role="Instructor",
    )  # fmt: skip
    assert said.status_code == 403
    ta = user_row(lti, "ta")
    assert (
        ta is None or ta.account_id not in lti.sim.project(project_of(lti, "prof"))["collaborators"]
    )
    fine = review(lti, agent, lineitem, user="ta", role="TeachingAssistant", for_user="stu-1")
    assert "/embed/" in fine.url, fine.text[:300]


def test_a_learners_deep_linking_request_gets_no_picker(lti, agent):
    refused = agent.open(lti.course_launch(user="stu-1", role="Learner", message="deeplink"))
    assert refused.status_code == 403
    assert 'id="new-notebook"' not in refused.text and 'name="path"' not in refused.text
    teacher = agent.open(lti.course_launch(user="prof", role="Instructor", message="deeplink"))
    assert teacher.status_code == 200 and 'id="new-notebook"' in teacher.text


def test_a_resume_key_in_another_users_launch_is_not_used_up(lti, agent):
    """Peek, compare, then take: another user's launch carrying the key leaves it for its
    owner, whose full-window launch still goes on with the file."""
    framed = agent.open(lti.course_launch(user="stu-1", path="hw/deep/one.ipynb"))
    url = full_window_url(agent, framed.url).json()["url"]
    other = agent.open(lti.course_launch(user="stu-2", target=quote(url, safe="")))
    assert "/embed/" in other.url
    mine = agent.open(lti.course_launch(user="stu-1", target=quote(url, safe="")))
    with lti.gw.db.read() as session:
        path = session.scalar(
            select(Launch.path).where(Launch.digest == digest(page_key(mine.url)))
        )
    assert path == "hw/deep/one.ipynb"


@pytest.mark.parametrize("comment", ["a\x00b", "tab\x07bell", "esc\x1b[31m", "del\x7f"])
def test_control_characters_in_a_grade_are_refused_before_the_lms(lti, agent, comment):
    hand_in(lti, agent)
    teacher = review(lti, agent, the_line_item(lti)["id"])
    scores = len(lti.lms.scores)
    refused = grade(agent, teacher.url, score=5, maximum=10, comment=comment)
    assert refused.status_code == 400 and "comment" in refused.text
    assert len(lti.lms.scores) == scores
    with lti.gw.db.read() as session:
        assert not session.scalars(select(LtiScore)).all()
    # Line breaks are text, not control: a teacher may write two lines.
    fine = grade(agent, teacher.url, score=5, maximum=10, comment="good\nwork")
    assert fine.status_code == 200, fine.text


def test_a_grades_file_row_with_a_nul_fails_alone_and_the_rest_are_posted(lti, agent, tmp_path):
    graded_course(lti, agent)
    before = len(lti.lms.scores)
    text = "user_id,score,comment\nstu-1,5,bad\x00row\nstu-2,7,fine\n"
    result, report = push(lti, tmp_path, text)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert [r["status"] for r in report["rows"]] == ["failed", "posted"]
    assert [s["userId"] for s in lti.lms.scores[before:]] == ["stu-2"]
    _again, report = push(lti, tmp_path, "user_id,score,comment\nstu-2,7,fine\n")
    assert report["unchanged"] == 1 and len(lti.lms.scores) == before + 1  # never twice


def test_a_removed_host_stops_every_lti_page_action(lti, agent):
    hand_in(lti, agent)
    teacher = review(lti, agent, the_line_item(lti)["id"])
    learner = agent.open(lti.course_launch(user="stu-1", path="hw/one.ipynb", ags="items"))
    scores = len(lti.lms.scores)
    with lti.app.app_context():
        hosts.remove(lti.gw, lti.host.id)
    assert grade(agent, teacher.url, score=1, maximum=1).status_code == 410
    assert agent.http.post(learner.url + "/hand-in", headers=SAME_ORIGIN).status_code == 410
    assert full_window_url(agent, learner.url).status_code == 410
    assert len(lti.lms.scores) == scores
