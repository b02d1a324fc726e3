"""What a run's score may be: the teacher's points, read before any learner's code ran,
bound what the learner's run earned.

A learner's notebook runs in the same kernel as the grader's tests, so what that run
reports is the learner's to forge (otter's results object, nbgrader's executed cells): the
limit of every in-kernel autograder is that a crafted notebook can make its own tests pass.
It must not be able to do more. So each kind of grader first reads what every test is
worth from the teacher's files alone (``Points``), and the run's report counts only as
"this test earned so much": a test the teacher did not write counts for nothing, no test
counts for more than its points, and the maximum is the teacher's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .failures import NO_POINTS, Failed


@dataclass(frozen=True)
class Points:
    """What the teacher's grader says each part is worth: automatically graded tests by
    name, and the points it leaves to a person."""

    tests: dict[str, float]
    manual: float = 0.0


@dataclass(frozen=True)
class Outcome:
    score: float
    maximum: float
    #: Of the maximum, the points left to a person (nothing of them is in ``score``).
    manual: float
    #: Each test's points earned and worth, for the feedback: names and numbers only.
    tests: tuple[tuple[str, float, float], ...]


def bounded(points: Points, earned: dict[str, float]) -> Outcome:
    """The score the run earned under the teacher's points."""
    tests = tuple(
        (name, _within(earned.get(name), worth), worth) for name, worth in points.tests.items()
    )
    maximum = sum(worth for _, _, worth in tests) + points.manual
    if maximum <= 0:
        raise Failed(NO_POINTS)
    return Outcome(sum(got for _, got, _ in tests), maximum, points.manual, tests)


def _within(value, worth: float) -> float:
    if not is_number(value) or value <= 0:
        return 0.0
    return float(min(value, worth))


def is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
