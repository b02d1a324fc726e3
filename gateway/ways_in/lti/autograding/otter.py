"""otter-grader (PyPI ``otter-grader``): how a run calls it, and what its result says."""

from __future__ import annotations

import json
import math

from .failures import NO_POINTS, NO_RESULT, Failed

MAX_RESULT_BYTES = 1024 * 1024


def command(folder: str) -> tuple[str, list[str]]:
    """``otter run`` on the hand-in with the teacher's autograder archive; the result goes
    to ``{folder}/results.json``."""
    return "otter", [
        "run", "-a", f"{folder}/autograder.zip", "-o", folder, f"{folder}/submission.ipynb"
    ]  # fmt: skip


def score_of(text: str) -> tuple[float, float]:
    """The score and maximum of otter-grader's ``results.json``: the sum over its tests
    that carry both (a public-tests summary carries neither)."""
    if not isinstance(text, str) or len(text) > MAX_RESULT_BYTES:
        raise Failed(NO_RESULT)
    try:
        tests = json.loads(text)["tests"]
    except (ValueError, KeyError, TypeError):
        raise Failed(NO_RESULT) from None
    score = maximum = 0.0
    for test in tests if isinstance(tests, list) else []:
        if not isinstance(test, dict):
            raise Failed(NO_RESULT)
        given, most = test.get("score"), test.get("max_score")
        if given is None and most is None:
            continue
        if not all(_number(v) for v in (given, most)):
            raise Failed(NO_RESULT)
        if not 0 <= given <= most:
            raise Failed(NO_RESULT)
        score, maximum = score + given, maximum + most
    if maximum <= 0:
        raise Failed(NO_POINTS)
    return score, maximum


def _number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
