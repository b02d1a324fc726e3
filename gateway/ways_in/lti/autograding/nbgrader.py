"""nbgrader (PyPI ``nbgrader``): the assignment's source notebook (the teacher's, with its
solutions and hidden tests) grades the hand-in with ``nbgrader autograde``.

In the run's project, a course folder of one assignment: the source notebook is copied in
and read (each graded cell's id and points: the teacher's, read before anything of the
learner's is in the project), ``nbgrader generate_assignment`` makes the gradebook from it,
then the hand-in goes into ``submitted/`` and ``nbgrader autograde`` runs it with the hidden
tests put back. nbgrader would keep the grades in its gradebook, but the learner's code ran
with that file in reach (the kernel runs in the project), so the score is read from the
executed notebook's test cells, cell by cell as nbgrader grades them, and bounded by the
source's points (``outcome.bounded``). Cells nbgrader leaves to a person (manually graded
answers, tasks) count in the maximum and go to the LMS as PendingManual."""

from __future__ import annotations

import json
import posixpath

from ....store.autograde_tables import LtiAutograder
from .failures import NO_RESULT, Failed
from .outcome import Outcome, Points, bounded, is_number
from .workspace import Workspace

SOURCE_SUFFIX = ".ipynb"
COURSE, ASSIGNMENT, STUDENT = "course", "assignment", "learner"
MAX_NOTEBOOK_BYTES = 16 * 1024 * 1024


def _name(grader: LtiAutograder) -> str:
    return posixpath.basename(grader.source_path)


def submission_path(grader: LtiAutograder) -> str:
    return f"{COURSE}/submitted/{STUDENT}/{ASSIGNMENT}/{_name(grader)}"


def points_of(workspace: Workspace, grader: LtiAutograder) -> Points:
    source = f"{COURSE}/source/{ASSIGNMENT}/{_name(grader)}"
    workspace.copy_in(grader.source_project_id, grader.source_path, source)
    tests, manual = {}, 0.0
    for cell in _graded_cells(workspace.read(source, most=MAX_NOTEBOOK_BYTES)):
        grade_id, worth = cell["metadata"]["nbgrader"]["grade_id"], _points(cell)
        if grade_id in tests:
            raise Failed(NO_RESULT)
        if _auto(cell):
            tests[grade_id] = worth
        else:
            manual += worth
    workspace.run("nbgrader", ["generate_assignment", ASSIGNMENT, "--force", *_course_args()])
    return Points(tests, manual)


def graded(workspace: Workspace, grader: LtiAutograder, points: Points) -> Outcome:
    # The whole run under the teacher's time limit: no cell may wait longer than the run.
    limit = f"--Execute.timeout={workspace.time_limit_s}"
    workspace.run(
        "nbgrader", ["autograde", ASSIGNMENT, "--student", STUDENT, "--force", limit,
                     *_course_args()]
    )  # fmt: skip
    executed = f"{COURSE}/autograded/{STUDENT}/{ASSIGNMENT}/{_name(grader)}"
    return bounded(points, earned_of(workspace.read(executed, most=MAX_NOTEBOOK_BYTES), points))


def earned_of(executed: str, points: Points) -> dict[str, float]:
    """Each of the teacher's tests' points as the executed notebook shows them earned."""
    cells = [c for c in _graded_cells(executed, teachers=False) if _auto(c)]
    earned = {}
    for grade_id, worth in points.tests.items():
        same = [c for c in cells if c["metadata"]["nbgrader"]["grade_id"] == grade_id]
        # A test cell missing, or two claiming its id: that test earns nothing.
        earned[grade_id] = _earned(same[0], worth) if len(same) == 1 else 0.0
    return earned


def _course_args() -> list[str]:
    return [f"--CourseDirectory.root={COURSE}"]


def _graded_cells(text: str, *, teachers: bool = True) -> list[dict]:
    """The cells nbgrader grades (``grade: true``), each with a grade id and points. In the
    teacher's notebook a graded cell without them is an error; in the executed one, a cell
    the learner made up is left out."""
    try:
        cells = json.loads(text)["cells"]
    except (ValueError, KeyError, TypeError):
        raise Failed(NO_RESULT) from None
    found = []
    for cell in cells if isinstance(cells, list) else []:
        meta = cell.get("metadata", {}).get("nbgrader") if isinstance(cell, dict) else None
        if not isinstance(meta, dict) or meta.get("grade") is not True:
            continue
        if isinstance(meta.get("grade_id"), str) and _points(cell) is not None:
            found.append(cell)
        elif teachers:
            raise Failed(NO_RESULT)
    return found


def _points(cell: dict) -> float | None:
    try:
        worth = float(cell["metadata"]["nbgrader"].get("points", 0))
    except (TypeError, ValueError):
        return None
    return worth if is_number(worth) and worth >= 0 else None


def _auto(cell: dict) -> bool:
    """An automatically graded test: a graded code cell that is neither an answer nor a
    task (those nbgrader leaves to a person)."""
    meta = cell["metadata"]["nbgrader"]
    return cell.get("cell_type") == "code" and not meta.get("solution") and not meta.get("task")


def _earned(cell: dict, worth: float) -> float:
    """nbgrader's rule for a test cell (``nbgrader.utils.determine_grade``): an error or
    anything on stderr earns nothing; a result that is a number from 0 to the cell's points
    earns that much (partial credit; more than the points is nbgrader's error: nothing);
    anything else earns the points."""
    outputs = cell.get("outputs")
    for output in outputs if isinstance(outputs, list) else []:
        if not isinstance(output, dict):
            return 0.0
        kind = output.get("output_type")
        if kind == "error" or (kind == "stream" and output.get("name") == "stderr"):
            return 0.0
        if kind == "execute_result":
            return _partial(output, worth)
    return worth


def _partial(output: dict, worth: float) -> float:
    text = (output.get("data") or {}).get("text/plain") if isinstance(output, dict) else None
    if isinstance(text, list):
        if len(text) != 1:
            return worth
        text = text[0]
    try:
        value = float(text)
    except (TypeError, ValueError):
        return worth
    if value != value or value < 0:  # NaN, or below nothing: nbgrader gives the points
        return worth
    return value if value <= worth else 0.0
