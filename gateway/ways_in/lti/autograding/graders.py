"""The grader a teacher attaches to a course's link (``lti autograde set``): which kind,
where its file is (a project of the teacher's: read fresh at each run), and its time limit.

The kinds: ``otter`` (otter-grader; the file is the autograder archive ``otter assign``
made) and ``nbgrader`` (the assignment's source notebook, with solutions and hidden tests,
as in nbgrader's ``source/`` folder). Each kind's module says how it grades."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError

from ....cocalc import CoCalcError
from ....context import Gateway
from ....errors import N_, BadRequest, NotFound
from ....hosts import get as get_host
from ....provisioning.paths import clean_path
from ....provisioning.projects import copied_to_every_project
from ....store.autograde_tables import LtiAutograder
from ....store.models import utcnow
from .. import identity, platforms
from . import nbgrader, otter

#: Each kind of grader and its module (``points_of``, ``submission_path``, ``graded``).
KINDS = {"otter": otter, "nbgrader": nbgrader}
MIN_TIME_LIMIT_S, MAX_TIME_LIMIT_S = 10, 600


@dataclass(frozen=True)
class Choice:
    """A grader as checked: its kind, its file (a project and a path in it), its limit."""

    kind: str
    project_id: str
    path: str
    time_limit_s: int

    def row(self) -> dict:
        return {
            "kind": self.kind,
            "source_project_id": self.project_id,
            "source_path": self.path,
            "time_limit_s": self.time_limit_s,
        }


def checked(gw: Gateway, kind, project_id, path, time_limit_s) -> Choice:
    """A grader a teacher names (the CLI's or the picker's), checked before anything is
    kept: a known kind, a time limit in range, a file of that kind's that exists now."""
    if kind not in KINDS:
        raise BadRequest(
            N_("the grader must be one of: %(kinds)s"), field="grader", kinds=", ".join(KINDS)
        )
    try:
        limit = int(time_limit_s)
    except (TypeError, ValueError):
        limit = 0
    if not MIN_TIME_LIMIT_S <= limit <= MAX_TIME_LIMIT_S:
        raise BadRequest(
            N_("the time limit is %(low)s to %(high)s seconds"),
            field="time_limit",
            low=MIN_TIME_LIMIT_S,
            high=MAX_TIME_LIMIT_S,
        )
    path = clean_path(path) if isinstance(path, str) else None
    if not isinstance(project_id, str) or len(project_id) != 36 or not path:
        raise BadRequest(N_("the grader's source is PROJECT_ID:PATH"), field="grader_path")
    if not path.endswith(KINDS[kind].SOURCE_SUFFIX):
        raise BadRequest(
            N_("a %(kind)s grader's file ends in %(suffix)s"),
            field="grader_path",
            kind=kind,
            suffix=KINDS[kind].SOURCE_SUFFIX,
        )
    try:
        found = gw.cocalc.project_exec(project_id, "test", args=["-e", path])
    except CoCalcError:
        raise BadRequest(N_("the gateway cannot reach that project")) from None
    if found.exit_code != 0:
        raise BadRequest(
            N_("the grader's file %(path)s is not in that project"), field="grader_path", path=path
        )
    return Choice(kind, project_id, path, limit)


#: A grader's file the host's template copies into every learner's project.
COPIED_TO_LEARNERS = N_(
    "every learner gets a copy of %(path)s from the course template: name the template "
    "paths to copy without it (hosts add --template-path)"
)


def kept_from_learners(host, choice: Choice, field: str | None = None) -> None:
    """Refuse a grader whose file the host's template copies into every learner's project
    (its hidden tests and solutions would be theirs to read)."""
    if choice.project_id == host.template_project_id and copied_to_every_project(host, choice.path):
        raise BadRequest(COPIED_TO_LEARNERS, field=field, path=choice.path)


def configure(
    gw: Gateway,
    platform_id: str,
    course_id: str,
    resource_link_id: str,
    *,
    source: str,
    kind: str = "otter",
    time_limit_s: int = 60,
) -> LtiAutograder:
    """Attach a grader to a link of a course (the LMS's ids), replacing one it had:
    ``source`` is ``PROJECT_ID:PATH`` of the grader's file (otter-grader: the autograder
    archive ``otter assign`` made; nbgrader: the source notebook), checked to exist now."""
    platform = platforms.get(gw, platform_id)
    context = identity.context_of(platform.issuer, course_id)
    if not context or not resource_link_id:
        raise BadRequest(N_("a grader is attached to a course's link: name both"))
    project_id, _, path = str(source).partition(":")
    choice = checked(gw, kind, project_id, path, time_limit_s)
    kept_from_learners(get_host(gw, platform.host_id), choice)
    attach(gw, platform_id, context, course_id, resource_link_id, choice, replace=True)
    return grader_of(gw, platform_id, context, resource_link_id)


def attach(
    gw: Gateway,
    platform_id: str,
    context: str,
    course_id: str,
    resource_link_id: str,
    choice: Choice,
    *,
    replace: bool,
) -> bool:
    """Keep ``choice`` as the link's grader: in place of one it had (``replace``), else
    only where it has none. Whether it was kept."""
    key = _link_key(platform_id, context, resource_link_id)
    row = {
        "platform_id": platform_id,
        "context": context,
        "course_id": course_id,
        "resource_link_id": resource_link_id,
        **choice.row(),
        "created_at": utcnow(),
    }
    try:
        with gw.db.begin() as session:
            if replace:
                session.execute(delete(LtiAutograder).where(*key))
            session.execute(insert(LtiAutograder), row)
    except IntegrityError:  # it has a grader already (kept as it is)
        return False
    return True


def _link_key(platform_id: str, context: str, resource_link_id: str):
    return (
        LtiAutograder.platform_id == platform_id,
        LtiAutograder.context == context,
        LtiAutograder.resource_link_id == resource_link_id,
    )


def grader_of(gw: Gateway, platform_id: str, context, resource_link_id) -> LtiAutograder | None:
    if not context or not resource_link_id:
        return None
    with gw.db.read() as session:
        return session.scalar(
            select(LtiAutograder).where(*_link_key(platform_id, context, resource_link_id))
        )


def remove(gw: Gateway, platform_id: str, course_id: str, resource_link_id: str) -> None:
    context = identity.context_of(platforms.get(gw, platform_id).issuer, course_id)
    with gw.db.begin() as session:
        gone = session.execute(
            delete(LtiAutograder).where(*_link_key(platform_id, context, resource_link_id))
        ).rowcount
    if not gone:
        raise NotFound(N_("no grader is attached to that link"))


def all_graders(gw: Gateway) -> list[dict]:
    with gw.db.read() as session:
        rows = session.scalars(select(LtiAutograder)).all()
    return [
        {
            "platform_id": r.platform_id,
            "course_id": r.course_id,
            "resource_link_id": r.resource_link_id,
            "kind": r.kind,
            "source": f"{r.source_project_id}:{r.source_path}",
            "time_limit_s": r.time_limit_s,
        }
        for r in rows
    ]
