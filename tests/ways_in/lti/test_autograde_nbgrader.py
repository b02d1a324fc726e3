"""Autograding hand-ins with a real nbgrader (from PyPI) in a project made for the run,
inside the simulator's sandbox: the teacher's source notebook (solutions, hidden tests,
a manually graded answer) grades the learner's hand-in; the LMS gets one score, with
PendingManual where a person must grade a part. A learner's notebook that rewrites the
tests, nbgrader's gradebook or its own graded cells gets no more than its honest score."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import requests

from gateway.dev.simulator import sandbox
from gateway.ways_in.lti.autograding import graders, nbgrader
from gateway.ways_in.lti.autograding.failures import NO_RESULT, STOPPED, TIMED_OUT, Failed
from gateway.ways_in.lti.autograding.outcome import Points
from tests.ways_in.lti import test_autograde as autograde_test
from tests.ways_in.lti.test_autograde import feedback_of, run_of

BIN = Path(sys.prefix) / "bin"
pytestmark = pytest.mark.skipif(
    not sandbox.available() or shutil.which("nbgrader", path=str(BIN)) is None,
    reason="bubblewrap and nbgrader are installed by make install",
)

CORRECT = "def square(x):\n    return x * x"
WRONG = "def square(x):\n    return x + x"
TEST_SOURCE = (
    "assert square(3) == 9\n### BEGIN HIDDEN TESTS\nassert square(-4) == 16\n### END HIDDEN TESTS"
)


def _cell(make, source, **nbgrader_meta):
    return make(source, metadata={"nbgrader": {"schema_version": 3, **nbgrader_meta}})


def _source(manual: bool) -> nbformat.NotebookNode:
    """nbgrader's source notebook: an answer, a test of 2 points with a hidden part, and
    (``manual``) an explanation of 1 point that a person grades."""
    v4 = nbformat.v4
    found = v4.new_notebook()
    found.cells = [
        _cell(v4.new_code_cell,
              "def square(x):\n    ### BEGIN SOLUTION\n    return x * x\n    ### END SOLUTION",
              grade=False, solution=True, locked=False, grade_id="answer"),
        _cell(v4.new_code_cell, TEST_SOURCE,
              grade=True, solution=False, locked=True, points=2, grade_id="test_square"),
    ]  # fmt: skip
    if manual:
        found.cells.append(
            _cell(v4.new_markdown_cell, "Why does it work?",
                  grade=True, solution=True, locked=False, points=1, grade_id="explain")
        )  # fmt: skip
    found.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    return found


@pytest.fixture(scope="session")
def assignments(tmp_path_factory) -> dict:
    """For each variant, the teacher's source notebook and the learner's release copy
    (made by ``nbgrader generate_assignment``, as a teacher makes it)."""
    made = {}
    for variant in ("auto", "manual"):
        course = tmp_path_factory.mktemp(f"nbgrader-{variant}")
        (course / "source" / "ps1").mkdir(parents=True)
        nbformat.write(_source(variant == "manual"), course / "source" / "ps1" / "square.ipynb")
        subprocess.run(
            [str(BIN / "nbgrader"), "generate_assignment", "ps1", "--force"],
            cwd=course,
            check=True,
            capture_output=True,
            timeout=120,
            env={"PATH": f"{BIN}:/usr/bin:/bin", "HOME": str(course)},
        )
        made[variant] = {
            "source": (course / "source" / "ps1" / "square.ipynb").read_text(),
            "release": (course / "release" / "ps1" / "square.ipynb").read_text(),
        }
    return made


def answered(release: str, code: str, *extra_cells) -> str:
    found = nbformat.reads(release, as_version=4)
    for cell in found.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "answer":
            cell.source = code
    found.cells.extend(extra_cells)
    return nbformat.writes(found)


def attach(lti, assignment: dict, link="link-course-1", time_limit_s=30):
    lti.sim.configure(real_exec=True)
    teacher = lti.gw.cocalc.create_project(title="Teacher's course", start=True).project_id
    requests.put(
        f"{lti.sim.url}/_sim/projects/{teacher}/files/course/source/ps1/square.ipynb",
        data=assignment["source"].encode(),
        timeout=10,
    ).raise_for_status()
    graders.configure(
        lti.gw,
        lti.platform.id,
        "course-1",
        link,
        source=f"{teacher}:course/source/ps1/square.ipynb",
        kind="nbgrader",
        time_limit_s=time_limit_s,
    )


def hand_in(lti, agent, source: str, **launch):
    autograde_test.hand_in(lti, agent, source, path="ps1/square.ipynb", **launch)


def graded_posts(lti) -> list[dict]:
    return [s for s in lti.lms.scores if s.get("activityProgress") == "Completed"]


def test_nbgrader_grades_a_hand_in_and_the_score_is_posted_once(lti, agent, assignments):
    attach(lti, assignments["auto"])
    hand_in(lti, agent, answered(assignments["auto"]["release"], CORRECT))
    [posted] = graded_posts(lti)
    assert (posted["scoreGiven"], posted["scoreMaximum"]) == (2.0, 2.0)
    assert posted["gradingProgress"] == "FullyGraded"
    path, feedback = feedback_of(lti)
    assert posted["comment"] == f"Autograded (nbgrader): 2 of 2; Feedback: {path} in your project"
    assert "| test_square | 2 of 2 |" in feedback
    run = run_of(lti)
    assert (run.status, run.score, run.maximum, run.manual) == ("graded", 2.0, 2.0, None)
    assert lti.sim.project(run.project_id)["deleted"]


def test_a_part_for_a_person_is_posted_as_pending_manual(lti, agent, assignments):
    """And the comment and the feedback file speak the language of the page the learner
    handed in from."""
    attach(lti, assignments["manual"])
    hand_in(lti, agent, answered(assignments["manual"]["release"], WRONG), locale="fr-FR")
    [posted] = graded_posts(lti)
    assert (posted["scoreGiven"], posted["scoreMaximum"]) == (0.0, 3.0)
    assert posted["gradingProgress"] == "PendingManual"
    # The comment, as the feedback file, is in the language of the hand-in's page.
    path, feedback = feedback_of(lti)
    assert posted["comment"] == (
        "Corrigé automatiquement (nbgrader) : 0 sur 3; 1 à corriger par un enseignant; "
        f"Retour : {path} dans votre projet"
    )
    assert run_of(lti).manual == 1.0
    assert "| test_square | 0 sur 2 |" in feedback
    assert "À corriger par votre enseignant : 1" in feedback and "Total : 0 sur 3" in feedback


def test_attack_a_notebook_that_rewrites_tests_and_the_gradebook_gets_its_honest_score(
    lti, agent, assignments
):
    """A wrong answer whose notebook empties the test cell it was given, and from its kernel
    raises every grade cell's points in nbgrader's gradebook and overwrites the course's
    notebooks: 0 of 2, the teacher's maximum."""
    attach(lti, assignments["auto"])
    kernel_attack = """
import glob, json, pathlib, sqlite3
for found in glob.glob("/home/user/**/gradebook.db", recursive=True):
    with sqlite3.connect(found) as db:
        db.execute("update grade_cells set max_score = 100")
for found in glob.glob("/home/user/course/**/*.ipynb", recursive=True):
    try:
        pathlib.Path(found).write_text(json.dumps({"cells": [], "metadata": {}}))
    except OSError:
        pass
"""
    tampered = nbformat.reads(
        answered(assignments["auto"]["release"], kernel_attack + WRONG), as_version=4
    )
    emptied = [c for c in tampered.cells if c.source == "assert square(3) == 9"]
    assert emptied
    for cell in emptied:
        cell.source = "pass"
    hand_in(lti, agent, nbformat.writes(tampered))
    [posted] = graded_posts(lti)
    assert (posted["scoreGiven"], posted["scoreMaximum"]) == (0.0, 2.0)


def test_attack_a_cell_that_claims_a_tests_id_grades_nothing(lti, agent, assignments):
    """A cell of the learner's own that claims the test's id and 50 points, and passes:
    nbgrader refuses the notebook, so nothing is posted and the teacher sees why (and were
    it graded, two cells of one id earn that test nothing)."""
    attach(lti, assignments["auto"])
    forged_test = nbformat.v4.new_code_cell(
        "pass",
        metadata={"nbgrader": {"grade": True, "solution": False, "locked": True, "points": 50,
                               "grade_id": "test_square", "schema_version": 3}},
    )  # fmt: skip
    hand_in(lti, agent, answered(assignments["auto"]["release"], WRONG, forged_test))
    assert graded_posts(lti) == []
    run = run_of(lti)
    assert (run.status, run.detail) == ("failed", STOPPED)
    twice = json.dumps({"cells": [forged_test, forged_test]})
    assert nbgrader.earned_of(twice, Points({"test_square": 2.0})) == {"test_square": 0.0}


def test_attack_hidden_tests_stay_out_of_what_the_learner_gets(lti, agent, assignments):
    """The run's words that reach the learner are the LMS's score and comment and the
    feedback file: nothing of the notebook the run executed (which held the hidden tests,
    and printed them)."""
    attach(lti, assignments["auto"])
    code = "print(open('/home/user/course/source/assignment/square.ipynb').read())\n" + CORRECT
    hand_in(lti, agent, answered(assignments["auto"]["release"], code))
    [posted] = graded_posts(lti)
    _, feedback = feedback_of(lti)
    for given in (json.dumps(posted), feedback):
        assert "HIDDEN" not in given and "square(-4)" not in given


def test_attack_a_fake_score_line_counts_for_nothing(lti, agent, assignments):
    """A wrong answer that prints nbgrader's and otter's summary lines: 0 of 2."""
    attach(lti, assignments["auto"])
    fake = 'print("test_square: 2.0 / 2.0\\nTotal: 2.0 / 2.0 (100%)")\n' + WRONG
    hand_in(lti, agent, answered(assignments["auto"]["release"], fake))
    [posted] = graded_posts(lti)
    assert (posted["scoreGiven"], posted["scoreMaximum"]) == (0.0, 2.0)


def test_a_notebook_that_never_ends_posts_nothing_and_says_why(lti, agent, assignments):
    attach(lti, assignments["auto"], time_limit_s=10)
    hand_in(lti, agent, answered(assignments["auto"]["release"], "while True:\n    pass"))
    assert graded_posts(lti) == []
    run = run_of(lti)
    assert (run.status, run.detail) == ("failed", TIMED_OUT)
    assert lti.sim.project(run.project_id)["deleted"]


@pytest.mark.parametrize(
    ("outputs", "earned"),
    [
        ([], 2.0),
        ([{"output_type": "stream", "name": "stdout", "text": "ok"}], 2.0),
        ([{"output_type": "error", "ename": "AssertionError", "evalue": "", "traceback": []}],
         0.0),
        ([{"output_type": "stream", "name": "stderr", "text": "warning"}], 0.0),
        ([{"output_type": "execute_result", "data": {"text/plain": "1.5"}}], 1.5),
        ([{"output_type": "execute_result", "data": {"text/plain": "50"}}], 0.0),
        ([{"output_type": "execute_result", "data": {"text/plain": "-1"}}], 2.0),
        ([{"output_type": "execute_result", "data": {"text/plain": "'done'"}}], 2.0),
    ],
)  # fmt: skip
def test_what_a_test_cell_earns_is_nbgraders_rule(outputs, earned):
    """As ``nbgrader.utils.determine_grade`` grades a test cell of 2 points (but a result
    over the points, nbgrader's error, earns nothing)."""
    cell = nbformat.v4.new_code_cell(
        "check()", metadata={"nbgrader": {"grade": True, "grade_id": "t", "points": 2}}
    )
    cell.outputs = outputs
    executed = json.dumps({"cells": [cell]})
    assert nbgrader.earned_of(executed, Points({"t": 2.0})) == {"t": earned}


def test_a_source_notebook_whose_graded_cell_has_no_id_grades_nothing():
    cell = nbformat.v4.new_code_cell("assert True", metadata={"nbgrader": {"grade": True}})
    with pytest.raises(Failed) as failed:
        nbgrader._graded_cells(json.dumps({"cells": [cell]}))
    assert failed.value.reason == NO_RESULT


def test_a_grader_file_of_the_wrong_kind_is_refused(lti, assignments):
    attach(lti, assignments["auto"])
    [grader] = graders.all_graders(lti.gw)
    project = grader["source"].split(":")[0]
    refused = lti.app.test_cli_runner().invoke(
        args=["lti", "autograde", "set", "--platform", lti.platform.id, "--context",
              "course-1", "--resource-link", "link-2", "--kind", "nbgrader",
              "--from", f"{project}:course/autograder.zip"]
    )  # fmt: skip
    assert refused.exit_code == 1 and "ends in .ipynb" in refused.output
