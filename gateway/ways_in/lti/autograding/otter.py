"""otter-grader (PyPI ``otter-grader``): the teacher's autograder archive (``otter
assign`` made it) grades the hand-in with ``otter run``.

What each test is worth is read first, by an ``otter run`` of the archive on an empty
notebook in the run's project, before the hand-in is in it: otter's ``results.json`` then
lists every test with its points and none passed. It is kept by the archive's SHA-256
(taken in the run's project before the hand-in is in it), so later hand-ins of the same
archive skip that run. The hand-in's own ``results.json`` comes
from a run in which the learner's code shared otter's kernel, so it counts only as each
test's earned points, bounded by those (``outcome.bounded``)."""

from __future__ import annotations

import json
import threading
from collections import OrderedDict

from ....store.autograde_tables import LtiAutograder
from .failures import NO_RESULT, Failed
from .outcome import Outcome, Points, bounded, is_number
from .workspace import Workspace

SOURCE_SUFFIX = ".zip"
ARCHIVE = "autograder.zip"
SUBMISSION = "submission.ipynb"
EMPTY = "empty.ipynb"
RESULTS = "results.json"
MAX_RESULT_BYTES = 1024 * 1024
MAX_CONFIG_BYTES = 64 * 1024
#: The points of archives read in this process, by their content's SHA-256: the oldest
#: goes past this many.
MAX_KNOWN = 256
_KNOWN: OrderedDict[str, Points] = OrderedDict()
_KNOWN_LOCK = threading.Lock()


def submission_path(grader: LtiAutograder) -> str:
    return SUBMISSION


def points_of(workspace: Workspace, grader: LtiAutograder) -> Points:
    """The archive's tests and their points, from a run on an empty notebook (once per
    archive content in this process: a course's hand-ins share one archive)."""
    workspace.copy_in(grader.source_project_id, grader.source_path, ARCHIVE)
    # Hashed in the run's project before anything of the learner's is in it.
    content = workspace.output("sha256sum", [ARCHIVE], most=1000).split(" ", 1)[0]
    with _KNOWN_LOCK:
        known = _KNOWN.get(content)
    if known is not None:
        return known
    workspace.write(EMPTY, json.dumps(_empty_notebook(workspace)))
    workspace.run("otter", _run_args(EMPTY))
    tests: dict[str, float] = {}
    listed = workspace.read(RESULTS, most=MAX_RESULT_BYTES)
    # Gone before the hand-in's run: it never stands in for a result that run did not write.
    workspace.run("rm", ["-f", RESULTS])
    for name, _, most in _tests(listed):
        if name in tests:
            raise Failed(NO_RESULT)
        if is_number(most) and most > 0:
            tests[name] = float(most)
    points = Points(tests)
    if len(content) == 64:
        with _KNOWN_LOCK:
            _KNOWN[content] = points
            while len(_KNOWN) > MAX_KNOWN:
                _KNOWN.popitem(last=False)
    return points


def graded(workspace: Workspace, grader: LtiAutograder, points: Points) -> Outcome:
    workspace.run("otter", _run_args(SUBMISSION))
    return bounded(points, earned_of(workspace.read(RESULTS, most=MAX_RESULT_BYTES)))


def earned_of(reported: str) -> dict[str, float]:
    """Each test's score as the hand-in's ``results.json`` reports it (the learner's to
    forge: ``outcome.bounded`` decides what it is worth)."""
    earned: dict[str, float] = {}
    for name, score, _ in _tests(reported):
        if is_number(score):
            earned[name] = max(earned.get(name, 0.0), score)
    return earned


def _run_args(notebook: str) -> list[str]:
    return ["run", "-a", ARCHIVE, "-o", ".", notebook]


def _empty_notebook(workspace: Workspace) -> dict:
    """A notebook of no cells that otter accepts for the archive: it names the assignment
    the archive's ``otter_config.json`` names, if any (otter refuses another)."""
    config = workspace.output("unzip", ["-p", ARCHIVE, "otter_config.json"], most=MAX_CONFIG_BYTES)
    try:
        name = json.loads(config or "{}").get("assignment_name")
    except (ValueError, AttributeError):
        raise Failed(NO_RESULT) from None
    metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    if isinstance(name, str):
        metadata["otter"] = {"assignment_name": name}
    return {"cells": [], "metadata": metadata, "nbformat": 4, "nbformat_minor": 5}


def _tests(text: str) -> list[tuple[str, object, object]]:
    """(name, score, max_score) of each test of otter's ``results.json``: a summary that
    carries no points (otter's "Public Tests") is left out."""
    try:
        tests = json.loads(text)["tests"]
    except (ValueError, KeyError, TypeError):
        raise Failed(NO_RESULT) from None
    if not isinstance(tests, list):
        raise Failed(NO_RESULT)
    found = []
    for test in tests:
        if not isinstance(test, dict) or not isinstance(test.get("name"), str):
            raise Failed(NO_RESULT)
        if test.get("max_score") is None and test.get("score") is None:
            continue
        found.append((test["name"], test.get("score"), test.get("max_score")))
    return found
