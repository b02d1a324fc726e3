"""Autograding hand-ins with a real otter-grader (from PyPI), run in the course's grading
project inside the simulator's sandbox (bubblewrap) as CoCalc runs it in a project: a
learner hands in through the LTI platform peer, and the platform's score service gets the
autograder's score once. A malicious notebook gets no more than its honest score and
harms nothing; a notebook that never ends posts nothing and says why."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import timedelta
from html import unescape
from pathlib import Path

import nbformat
import pytest
import requests
from sqlalchemy import select, update

from gateway.dev.simulator import sandbox
from gateway.store.autograde_tables import LtiAutogradeRun
from gateway.store.lti_tables import LtiHandIn
from gateway.store.models import UserProject, utcnow
from gateway.support import concurrency
from gateway.ways_in.lti.autograding import graders, otter, runs
from gateway.ways_in.lti.autograding.failures import NO_POINTS, NO_RESULT, TIMED_OUT, Failed
from gateway.ways_in.lti.autograding.outcome import Points, bounded
from tests.ways_in.lti.test_advantage import SAME_ORIGIN, project_of
from tests.ways_in.lti.test_review import grade, review

pytestmark = pytest.mark.skipif(
    not sandbox.available() or shutil.which("otter", path=str(Path(sys.prefix) / "bin")) is None,
    reason="bubblewrap and otter-grader are installed by make install",
)

CORRECT = "def square(x):\n    return x * x"
WRONG = "def square(x):\n    return x + x"


@pytest.fixture(scope="session")
def assignment(tmp_path_factory) -> dict:
    """An otter-grader assignment: one question of 2 points, a public and a hidden test.
    ``otter assign`` makes the autograder archive and the student's notebook."""
    folder = tmp_path_factory.mktemp("otter")
    master = nbformat.v4.new_notebook()
    master.cells = [
        nbformat.v4.new_raw_cell(
            "# ASSIGNMENT CONFIG\nname: hw1\ngenerate: true\nexport_cell: false\n"
            "run_tests: false\ncheck_all_cell: false\ninit_cell: false\n"
        ),
        nbformat.v4.new_raw_cell("# BEGIN QUESTION\nname: q1\npoints: 2\n"),
        nbformat.v4.new_code_cell(CORRECT + "  # SOLUTION"),
        nbformat.v4.new_raw_cell("# BEGIN TESTS"),
        nbformat.v4.new_code_cell("assert square(3) == 9"),
        nbformat.v4.new_code_cell("# HIDDEN\nassert square(-4) == 16"),
        nbformat.v4.new_raw_cell("# END TESTS"),
        nbformat.v4.new_raw_cell("# END QUESTION"),
    ]
    master.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(master, folder / "hw1.ipynb")
    subprocess.run(
        [str(Path(sys.prefix) / "bin" / "otter"), "assign", "hw1.ipynb", "dist"],
        cwd=folder,
        check=True,
        capture_output=True,
        timeout=120,
    )
    [archive] = (folder / "dist" / "autograder").glob("*.zip")
    return {
        "archive": archive.read_bytes(),
        "student": (folder / "dist" / "student" / "hw1.ipynb").read_text(),
    }


def notebook(assignment, code: str) -> str:
    """The student's notebook with ``code`` as the answer cell."""
    found = nbformat.reads(assignment["student"], as_version=4)
    for cell in found.cells:
        if cell.cell_type == "code" and "def square" in cell.source:
            cell.source = code
    return nbformat.writes(found)


@pytest.fixture
def graded(lti, assignment):
    """A course link with otter-grader attached, its archive in a teacher's project."""
    lti.sim.configure(real_exec=True)
    teacher = lti.gw.cocalc.create_project(title="Teacher's grader", start=True).project_id
    requests.put(
        f"{lti.sim.url}/_sim/projects/{teacher}/files/grader/autograder.zip",
        data=assignment["archive"],
        timeout=10,
    ).raise_for_status()
    graders.configure(
        lti.gw,
        lti.platform.id,
        "course-1",
        "link-course-1",
        source=f"{teacher}:grader/autograder.zip",
        time_limit_s=20,
    )
    return lti


def hand_in(lti, agent, source: str, user="stu-1", path="hw/hw1.ipynb", **launch) -> dict:
    """The learner opens the notebook from the course (``launch``: more of the launch,
    such as its locale), saves ``source`` in it and hands it in; the run (in the
    background) is over when this returns."""
    page = agent.open(lti.course_launch(user=user, path=path, ags="items", **launch))
    assert 'id="hand-in"' in page.text, page.text[:300]
    project = project_of(lti, user)
    lti.gw.cocalc.write_text_file_to_project(project, path, source)
    reply = agent.http.post(page.url + "/hand-in", headers=SAME_ORIGIN)
    assert reply.status_code == 201, reply.text
    concurrency.wait_idle()  # the run happens in the background
    return {"project": project, **reply.json()}


def posted_hand_in(lti) -> dict:
    """The learner's hand-in the gateway recorded (its path in the learner's project)."""
    with lti.gw.db.read() as session:
        found = session.scalars(select(LtiHandIn)).one()
    return {"id": found.id, "path": found.path}


def feedback_of(lti, user="stu-1") -> tuple[str, str]:
    """The feedback file's path (beside the hand-in) and text in the learner's project."""
    path = "feedback/" + posted_hand_in(lti)["path"].split("/", 1)[1] + ".md"
    return path, lti.sim.project(project_of(lti, user))["files"][path]


def graded_scores(lti) -> list[dict]:
    return [s for s in lti.lms.scores if s.get("gradingProgress") == "FullyGraded"]


def run_of(lti) -> LtiAutogradeRun:
    with lti.gw.db.read() as session:
        return session.scalars(select(LtiAutogradeRun)).one()


def test_a_hand_in_is_graded_and_its_score_posted_once(graded, agent, assignment):
    hand_in(graded, agent, notebook(assignment, CORRECT))
    [posted] = graded_scores(graded)
    assert (posted["scoreGiven"], posted["scoreMaximum"]) == (2.0, 2.0)
    feedback, written = feedback_of(graded)
    assert posted["comment"] == f"Autograded (otter): 2 of 2; Feedback: {feedback} in your project"
    # The feedback file, in the learner's project: the teacher's test names and numbers.
    assert "| q1 | 2 of 2 |" in written and "**Total: 2 of 2**" in written
    found = run_of(graded)
    assert (found.status, found.score, found.maximum) == ("graded", 2.0, 2.0)
    # The run had a project of its own, nobody's working project, deleted after the run.
    assert found.project_id not in (project_of(graded, "stu-1"), None)
    assert graded.sim.project(found.project_id)["deleted"]
    # Again (`lti grades rerun`), with nothing changed: the same grade, no second post.
    runner = graded.app.test_cli_runner()
    again = runner.invoke(args=["lti", "grades", "rerun", "--hand-in", str(found.hand_in_id)])
    assert again.exit_code == 0, again.output
    assert json.loads(again.output)["status"] == "graded" and len(graded_scores(graded)) == 1


def test_a_wrong_answer_gets_its_score(graded, agent, assignment):
    hand_in(graded, agent, notebook(assignment, WRONG))
    [posted] = graded_scores(graded)
    assert (posted["scoreGiven"], posted["scoreMaximum"]) == (0.0, 2.0)


def test_attack_a_malicious_notebook_gets_no_more_than_its_honest_score(
    graded, agent, assignment, tmp_path
):
    """It prints a full score, writes a results file of its own, tries to write outside its
    folder and to reach the network, and its answer is wrong: 0 of 2, nothing harmed."""
    sentinel = tmp_path / "escaped"
    attack = f"""
import json, os, pathlib, socket
print("q1: 2.0/2.0  Total: 100%")
for place in (".", "..", "/home/user/runs", "results"):
    try:
        pathlib.Path(place, "results.json").write_text(json.dumps(
            {{"tests": [{{"name": "q1", "score": 100, "max_score": 100}}]}}))
    except OSError:
        pass
for target in ({str(sentinel)!r}, "/usr/escaped", "/tmp/../usr/escaped"):
    try:
        open(target, "w").write("out")
    except OSError:
        pass
try:
    socket.create_connection(("127.0.0.1", {graded.sim.url.rsplit(":", 1)[1]}), 2)
    pathlib.Path("network-reached").write_text("yes")
except OSError:
    pass
{WRONG}
"""
    hand_in(graded, agent, notebook(assignment, attack))
    [posted] = graded_scores(graded)
    assert (posted["scoreGiven"], posted["scoreMaximum"]) == (0.0, 2.0)
    assert not sentinel.exists() and not Path("/usr/escaped").exists()
    grading = run_of(graded).project_id
    assert "network-reached" not in graded.sim.project(grading)["files"]


def test_a_notebook_that_never_ends_posts_nothing_and_says_why(graded, agent, assignment):
    hand_in(graded, agent, notebook(assignment, "while True:\n    pass"))
    assert graded_scores(graded) == []
    found = run_of(graded)
    assert (found.status, found.detail) == ("failed", TIMED_OUT)
    # The teacher's review page says why.
    item = next(iter(graded.lms.line_items.values()))
    page = review(graded, agent, item["id"])
    assert "The autograder could not grade this hand-in" in unescape(page.text)
    assert TIMED_OUT in unescape(page.text)


def test_a_teachers_grade_wins_over_the_autograder(graded, agent, assignment):
    hand_in(graded, agent, notebook(assignment, WRONG))
    item = next(iter(graded.lms.line_items.values()))
    page = review(graded, agent, item["id"])
    assert "Autograded: 0 of 2" in unescape(page.text)
    given = grade(agent, page.url, score="1.5", maximum="2", comment="partial credit")
    assert given.status_code == 200, given.text
    runs.rerun(graded.gw, run_of(graded).hand_in_id)
    last = graded_scores(graded)[-1]
    assert (last["scoreGiven"], last["comment"]) == (1.5, "partial credit")


def test_the_autograde_commands(graded, agent):
    runner = graded.app.test_cli_runner()
    listed = json.loads(runner.invoke(args=["lti", "autograde", "list"]).output)
    [grader] = listed
    assert grader["kind"] == "otter" and grader["time_limit_s"] == 20
    project = grader["source"].split(":")[0]
    missing = runner.invoke(
        args=["lti", "autograde", "set", "--platform", graded.platform.id, "--context",
              "course-1", "--resource-link", "link-2", "--from", f"{project}:grader/none.zip"]
    )  # fmt: skip
    assert missing.exit_code == 1 and "is not in that project" in missing.output
    too_long = runner.invoke(
        args=["lti", "autograde", "set", "--platform", graded.platform.id, "--context",
              "course-1", "--resource-link", "link-2", "--from", grader["source"],
              "--time-limit", "100000"]
    )  # fmt: skip
    assert too_long.exit_code == 1 and "time limit" in too_long.output
    removed = runner.invoke(
        args=["lti", "autograde", "remove", "--platform", graded.platform.id, "--context",
              "course-1", "--resource-link", "link-course-1"]
    )  # fmt: skip
    assert removed.exit_code == 0 and graders.all_graders(graded.gw) == []


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        ('{"tests": [{"name": "Public Tests"}, {"name": "q1", "score": 1, "max_score": 2}]}', 1),
        # More than the teacher's points, a test the teacher did not write, a score that
        # is no number: each counts for no more than the teacher's points of its test.
        ('{"tests": [{"name": "q1", "score": 300, "max_score": 300}]}', 2),
        ('{"tests": [{"name": "q9", "score": 5, "max_score": 5}]}', 0),
        ('{"tests": [{"name": "q1", "score": true, "max_score": 2}]}', 0),
        ('{"tests": [{"name": "q1", "score": NaN, "max_score": 2}]}', 0),
        ('{"tests": [{"name": "q1", "score": -1, "max_score": 2}]}', 0),
        ('{"tests": []}', 0),
        ("not json", NO_RESULT),
        ('{"tests": ["q1"]}', NO_RESULT),
    ],
)
def test_what_counts_in_otters_result(result, expected):
    """The teacher's points (q1 worth 2) bound what the hand-in's result reports."""
    points = Points({"q1": 2.0})
    if isinstance(expected, int):
        found = bounded(points, otter.earned_of(result))
        assert (found.score, found.maximum) == (expected, 2.0)
    else:
        with pytest.raises(Failed) as failed:
            otter.earned_of(result)
        assert failed.value.reason == expected


def test_a_grader_whose_tests_are_worth_nothing_grades_nothing():
    with pytest.raises(Failed) as failed:
        bounded(Points({"q1": 0.0}), {"q1": 1})
    assert failed.value.reason == NO_POINTS


def test_nothing_is_graded_where_the_link_has_no_grader(lti, agent, assignment):
    lti.sim.configure(real_exec=True)
    hand_in(lti, agent, notebook(assignment, CORRECT))
    assert graded_scores(lti) == []
    with lti.gw.db.read() as session:
        assert session.scalars(select(LtiAutogradeRun)).all() == []


def test_attack_a_notebook_that_forges_otters_results_in_its_kernel_keeps_the_teachers_maximum(
    graded, agent, assignment
):
    """Its kernel rewrites otter's results object before otter reads it back (100 of 100 for
    a wrong answer). What a test is worth comes from the teacher's archive, read before any
    learner's code ran: at most the points of the tests it made pass, never more."""
    attack = f"""
import dataclasses
import otter.test_files as _files
_init = _files.GradingResults.__init__
def _forged(self, *args, **kwargs):
    _init(self, *args, **kwargs)
    for found in self.results.values():
        found.test_cases = [dataclasses.replace(case, points=50) for case in found.test_cases]
        found._score = 100
_files.GradingResults.__init__ = _forged
{WRONG}
"""
    hand_in(graded, agent, notebook(assignment, attack))
    [posted] = graded_scores(graded)
    assert posted["scoreMaximum"] == 2.0 and posted["scoreGiven"] <= 2.0


def test_attack_a_notebook_cannot_poison_the_next_learners_run(graded, agent, assignment):
    """It leaves an IPython start-up file in its home that ends every later kernel, where
    the next run's kernel would read it: each run has a project of its own, made for it and
    deleted after it, so the next learner's honest answer gets its full score."""
    attack = f"""
import pathlib
startup = pathlib.Path.home() / ".ipython/profile_default/startup"
startup.mkdir(parents=True, exist_ok=True)
(startup / "00-poison.py").write_text("import os; os._exit(1)")
{WRONG}
"""
    first = hand_in(graded, agent, notebook(assignment, attack), user="stu-1")
    second = hand_in(graded, agent, notebook(assignment, CORRECT), user="stu-2")
    with graded.gw.db.read() as session:
        rows = session.execute(
            select(LtiAutogradeRun, UserProject.project_id)
            .join(LtiHandIn, LtiHandIn.id == LtiAutogradeRun.hand_in_id)
            .join(UserProject, UserProject.id == LtiHandIn.user_project_id)
        ).all()
    found = {learner: run for run, learner in rows}
    attacker, learner = found[first["project"]], found[second["project"]]
    assert (attacker.status, attacker.score) == ("graded", 0.0)
    assert (learner.status, learner.score) == ("graded", 2.0)
    # Each run had its own project, deleted after it: the poison stayed in the first.
    poisoned, honest = attacker.project_id, learner.project_id
    assert None not in (poisoned, honest) and poisoned != honest
    startup = ".ipython/profile_default/startup/00-poison.py"
    assert startup in graded.sim.project(poisoned)["files"]
    assert startup not in graded.sim.project(honest)["files"]
    assert graded.sim.project(poisoned)["deleted"] and graded.sim.project(honest)["deleted"]


def test_housekeeping_deletes_run_projects_left_behind(graded, agent, assignment):
    """A run's project whose deletion failed, or whose run died with its worker, is deleted
    by housekeeping; the project of a run under way is left alone."""
    hand_in(graded, agent, notebook(assignment, WRONG))
    done = run_of(graded)
    assert done.project_deleted_at is not None

    def left(**values):
        project = graded.gw.cocalc.create_project(title="left", start=True).project_id
        with graded.gw.db.begin() as session:
            session.execute(
                update(LtiAutogradeRun).values(
                    project_id=project, project_deleted_at=None, **values
                )
            )
        return project

    under_way = left(status="running", started_at=utcnow())
    assert runs.discard_left_projects(graded.gw) == 0
    assert not graded.sim.project(under_way)["deleted"]
    died = left(status="running", started_at=utcnow() - runs.STALE_RUN - timedelta(minutes=1))
    assert runs.discard_left_projects(graded.gw) == 1
    assert graded.sim.project(died)["deleted"] and run_of(graded).project_deleted_at
    failed_to_delete = left(status="graded")
    assert runs.discard_left_projects(graded.gw) == 1
    assert graded.sim.project(failed_to_delete)["deleted"]
    assert runs.discard_left_projects(graded.gw) == 0
