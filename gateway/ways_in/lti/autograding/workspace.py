"""A run's own project: made for one hand-in, holding the grader's files and that hand-in
only, and deleted after the run.

Why not one grading project per course: whatever a learner's code leaves in a project's
home outlives the command that ran it (a kernel spec in ``~/.local/share/jupyter``, an
IPython start-up file, a ``~/.jupyter`` config nbgrader loads, a process that keeps
running), and would run in the next learner's grading. A project made for the run and
deleted after it (CoCalc stops it first: no process of it survives) leaves nothing for
anyone.
"""

from __future__ import annotations

import logging

from ....cocalc import CoCalcError
from ....context import Gateway
from ....provisioning.projects import copy_and_wait
from .failures import NO_RESULT, NOT_COPIED, STOPPED, TIMED_OUT, Failed

log = logging.getLogger(__name__)

#: ``timeout``'s exit code, which CoCalc's exec (and the simulator's) gives a command it
#: killed at its time limit.
KILLED_AT_TIME_LIMIT = 124


class Workspace:
    """The run's project, and the few things a run does in it (through CoCalc's API)."""

    def __init__(self, gw: Gateway, project_id: str, time_limit_s: int):
        self.gw, self.project_id, self.time_limit_s = gw, project_id, time_limit_s

    def copy_in(self, src_project_id: str, src_path: str, path: str) -> None:
        try:
            copy_and_wait(self.gw, src_project_id, src_path, self.project_id, path)
        except CoCalcError:
            raise Failed(NOT_COPIED) from None

    def write(self, path: str, text: str) -> None:
        self.gw.cocalc.write_text_file_to_project(self.project_id, path, text)

    def run(self, program: str, args: list[str]) -> None:
        """Run a grader's command with the teacher's time limit; it must exit 0."""
        done = self.gw.cocalc.project_exec(
            self.project_id, program, args=args, timeout=self.time_limit_s
        )
        if done.exit_code == KILLED_AT_TIME_LIMIT:
            raise Failed(TIMED_OUT)
        if done.exit_code != 0:
            raise Failed(STOPPED)

    def read(self, path: str, *, most: int) -> str:
        """A file's text (read with exec: the current API has no file read, both
        generations have exec), at most ``most`` characters."""
        return self.output("cat", [path], most=most)

    def output(self, program: str, args: list[str], *, most: int) -> str:
        """What a short command prints; it must exit 0 and print at most ``most``."""
        found = self.gw.cocalc.project_exec(self.project_id, program, args=args)
        if found.exit_code != 0 or len(found.stdout) > most:
            raise Failed(NO_RESULT)
        return found.stdout


def create(gw: Gateway, title: str) -> str:
    return gw.cocalc.create_project(title=title[:100], start=True).project_id


def discard(gw: Gateway, project_id: str) -> bool:
    """Delete the run's project (CoCalc stops it first); whether it was. A failure is
    logged, and housekeeping tries again."""
    try:
        gw.cocalc.delete_project(project_id)
    except CoCalcError as exc:
        log.warning("a run's project stays for now: %s (%s)", project_id, type(exc).__name__)
        return False
    return True
