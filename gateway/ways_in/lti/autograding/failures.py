"""Why a run graded nothing: message ids, kept with the run and shown translated to the
teacher on the review page."""

from __future__ import annotations

from ....errors import N_

#: Why a run failed: message ids, kept with the run and shown translated to the teacher.
TIMED_OUT = N_("the grader did not finish in its time limit")
STOPPED = N_("the grader stopped with an error")
NO_RESULT = N_("the grader left no well-formed result")
NO_POINTS = N_("the grader's result gives no points")
NO_GRADER = N_("the link has no grader any more")
NOT_COPIED = N_("the grader's or the hand-in's file could not be copied")


class Failed(Exception):
    """A run that grades nothing, and why (one of the ids above)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason
