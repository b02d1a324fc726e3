"""Deep Linking beyond the catalogue (several notebooks at once, a new blank notebook), and
a column of grades pushed from a file (``lti grades push``), against the shim's platform."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest

from gateway import hosts
from gateway.provisioning import new_files
from tests.ways_in.lti.test_advantage import SAME_ORIGIN, project_of

ACTION = re.compile(r'<form method="post" action="([^"]+)" id="(?:picker|new-notebook)">')


def offer_templates(lti, paths):
    with lti.gw.db.begin() as session:
        session.get(type(lti.host), lti.host.id).template_paths = paths
    hosts.forget_cached(lti.gw, lti.host.id)


def picker(lti, agent, **params):
    page = agent.open(
        lti.course_launch(user="prof", role="Instructor", message="deeplink", **params)
    )
    assert page.status_code == 200, page.text[:300]
    return page


def submit(agent, page, fields):
    key = re.search(r'name="key" value="([^"]+)"', page.text).group(1)
    return agent.post(unescape(ACTION.search(page.text).group(1)), {"key": key, **fields})


def test_several_notebooks_become_several_links_with_reviewable_line_items(lti, agent):
    offer_templates(lti, ["week1/a.ipynb", "week1/b.ipynb", "week1/c.ipynb"])
    page = picker(lti, agent)
    assert 'type="checkbox"' in page.text  # the platform accepts several
    done = submit(agent, page, {"path": ["week1/a.ipynb", "week1/c.ipynb"]})
    assert done.status_code == 200, done.text
    items = lti.lms.deep_link_items
    assert [i["custom"]["path"] for i in items] == ["week1/a.ipynb", "week1/c.ipynb"]
    for item in items:
        assert item["lineItem"]["submissionReview"]["url"] == lti.url + "/lti/launch"
    # The platform made a gradebook column of each, which offers "view submission".
    assert len(lti.lms.line_items) == 2


def test_one_at_a_time_where_the_platform_says_so_and_the_picker_survives_a_mistake(lti, agent):
    offer_templates(lti, ["a.ipynb", "b.ipynb"])
    page = picker(lti, agent, multiple="0")
    assert 'type="checkbox"' not in page.text
    refused = submit(agent, page, {"path": ["a.ipynb", "b.ipynb"]})
    assert refused.status_code == 400
    assert "one notebook at a time" in refused.text and 'role="alert"' in refused.text
    assert lti.lms.deep_link_items == []
    done = submit(agent, refused, {"path": "b.ipynb"})  # the same picker, once more
    assert done.status_code == 200
    assert [i["custom"]["path"] for i in lti.lms.deep_link_items] == ["b.ipynb"]


def test_an_empty_catalogue_offers_only_a_new_notebook(lti, agent):
    page = picker(lti, agent)
    assert 'id="picker"' not in page.text and 'id="new-notebook"' in page.text
    bad = submit(agent, page, {"new_path": "../escape.ipynb"})
    assert bad.status_code == 400 and 'aria-invalid="true"' in bad.text
    plain = submit(agent, bad, {"new_path": "notes.txt"})
    assert plain.status_code == 400 and "ends in .ipynb" in plain.text
    done = submit(agent, plain, {"new_path": " week3/lab.ipynb "})
    assert done.status_code == 200, done.text
    [item] = lti.lms.deep_link_items
    assert item["custom"] == {"path": "week3/lab.ipynb", "new": "notebook"}
    assert item["title"] == "lab.ipynb"


def test_a_new_notebook_is_made_blank_at_a_learner_s_first_launch_only(lti, agent):
    """Created once, at the first launch; a warm launch asks CoCalc nothing; a file the
    learner has already is never replaced."""
    launch = lti.course_launch(user="stu-1", path="week3/lab.ipynb", new="notebook")
    assert "/embed/" in agent.open(launch).url
    project = project_of(lti, "stu-1")
    notebook = json.loads(lti.sim.project(project)["files"]["week3/lab.ipynb"])
    assert notebook["nbformat"] == 4 and notebook["cells"] == []
    lti.gw.cocalc.write_text_file_to_project(project, "week3/lab.ipynb", '{"cells": ["work"]}')
    calls = lti.sim.calls()
    assert "/embed/" in agent.open(launch).url
    after = lti.sim.calls()
    assert not [k for k in after if "exec" in k and after[k] != calls.get(k)]
    assert not [k for k in after if "write" in k and after[k] != calls.get(k)]
    assert lti.sim.project(project)["files"]["week3/lab.ipynb"] == '{"cells": ["work"]}'
    # Another learner who made the file before the link existed keeps theirs.
    agent.open(lti.course_launch(user="stu-2", path="other.ipynb"))
    theirs = project_of(lti, "stu-2")
    lti.gw.cocalc.write_text_file_to_project(theirs, "week3/lab.ipynb", "mine")
    assert (
        "/embed/"
        in agent.open(lti.course_launch(user="stu-2", path="week3/lab.ipynb", new="notebook")).url
    )
    assert lti.sim.project(theirs)["files"]["week3/lab.ipynb"] == "mine"


@pytest.mark.parametrize(
    "name", ["", "/abs.ipynb", "a/../b.ipynb", ".hidden/x.ipynb", "x.py", ".ipynb", None, 7]
)
def test_a_new_notebook_s_name_is_checked(name):
    from gateway.errors import BadRequest

    with pytest.raises(BadRequest):
        new_files.notebook_path(name)


# -- lti grades push -------------------------------------------------------------------------
def graded_course(lti, agent):
    """Two learners who handed in on the same column."""
    for user, email in (("stu-1", "ada@example.edu"), ("stu-2", "alan@example.edu")):
        page = agent.open(lti.course_launch(user=user, email=email, path="hw.ipynb", ags="items"))
        lti.gw.cocalc.write_text_file_to_project(project_of(lti, user), "hw.ipynb", "{}")
        assert agent.http.post(page.url + "/hand-in", headers=SAME_ORIGIN).status_code == 201
    [item] = lti.lms.line_items.values()
    return item["id"]


def push(lti, tmp_path, text, *extra):
    grades = tmp_path / "grades.csv"
    if isinstance(text, bytes):
        grades.write_bytes(text)
    else:
        grades.write_text(text, encoding="utf-8")
    runner = lti.app.test_cli_runner()
    args = ["lti", "grades", "push", "--platform", lti.platform.id, "--context", "course-1"]
    result = runner.invoke(args=[*args, "--file", str(grades), *extra])
    start = result.output.find("{")
    return result, json.loads(result.output[start:]) if start >= 0 else None


def test_a_column_of_grades_is_pushed_once_and_each_row_reported(lti, agent, tmp_path):
    lineitem = graded_course(lti, agent)
    before = len(lti.lms.scores)
    text = "student_id,email,score,max_score,comment\nstu-1,,7,10,Nice\n,alan@example.edu,9.5,10,\n"
    result, report = push(lti, tmp_path, text)
    assert result.exit_code == 0, result.output
    assert report["lineitem"] == lineitem
    assert (report["posted"], report["unchanged"], report["failed"]) == (2, 0, 0)
    assert [r["lms_status"] for r in report["rows"]] == [200, 200]
    posted = {s["userId"]: s for s in lti.lms.scores[before:]}
    assert posted["stu-1"]["scoreGiven"] == 7 and posted["stu-1"]["comment"] == "Nice"
    assert posted["stu-2"]["scoreGiven"] == 9.5
    assert all(s["gradingProgress"] == "FullyGraded" for s in posted.values())
    again, report = push(lti, tmp_path, text)  # run twice: nothing changes, no call
    assert again.exit_code == 0
    assert (report["posted"], report["unchanged"]) == (0, 2)
    assert len(lti.lms.scores) == before + 2


def test_a_row_for_a_stranger_or_a_bad_score_fails_alone(lti, agent, tmp_path):
    graded_course(lti, agent)
    text = "user_id,score\nstu-1,5\nnobody,5\nstu-2,lots\n"
    result, report = push(lti, tmp_path, text)
    assert result.exit_code == 1
    assert [r["status"] for r in report["rows"]] == ["posted", "failed", "failed"]
    assert "not a learner" in report["rows"][1]["error"]
    assert "number" in report["rows"][2]["error"]
    assert not any(s.get("userId") == "nobody" for s in lti.lms.scores)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("name,points\nx,1\n", "score column"),
        ("score,comment\n1,x\n", "user_id"),
        (b"user_id,score\n\xff\xfe,1\n", "not UTF-8"),
    ],
)
def test_a_file_that_is_not_a_grades_file_is_a_clear_error(lti, agent, tmp_path, text, words):
    graded_course(lti, agent)
    result, _ = push(lti, tmp_path, text)
    assert result.exit_code != 0 and words in result.output
    assert "Traceback" not in result.output


def test_without_a_hand_in_the_column_must_be_named(lti, agent, tmp_path):
    agent.open(lti.course_launch(user="stu-1", path="hw.ipynb"))
    result, _ = push(lti, tmp_path, "user_id,score\nstu-1,1\n")
    assert result.exit_code != 0 and "--lineitem" in result.output
    item = lti.lms.url + "/lineitems/link-course-1"
    named, report = push(lti, tmp_path, "user_id,score\nstu-1,1\n", "--lineitem", item)
    assert named.exit_code == 0, named.output
    assert report["posted"] == 1 and lti.lms.scores[-1]["userId"] == "stu-1"
