"""``lti grades push``: a whole gradebook column from a CSV file (exported from nbgrader,
CoCalc's course file or a spreadsheet), posted through ``scores.post`` row by row, so a
row posted before is unchanged and makes no call, and a run can be repeated after an
interruption.

A row names its learner by LTI user id (``user_id``; nbgrader's ``student_id`` and ``sub``
are read as the same) or by ``email``. Either must be a learner of the course known to the
gateway (who launched a graded link, or handed in): a typo is reported, never posted to a
stranger. The column is ``--lineitem``, or else the one line item the course's hand-ins
name.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from sqlalchemy import func, select

from ...context import Gateway
from ...errors import N_, BadRequest, GatewayError, NotFound
from ...store.lti_tables import LtiGradeLink, LtiHandIn, LtiPlatform
from ...store.models import HostUser, Launch, UserProject
from . import identity, platforms, scores

USER_COLUMNS = ("user_id", "user", "sub", "student_id")
MAXIMUM_COLUMNS = ("maximum", "max_score", "score_maximum", "max")
DEFAULT_MAXIMUM = 100
MAX_ROWS = 10_000


@dataclass
class PushSummary:
    lineitem: str
    posted: int = 0
    unchanged: int = 0
    failed: int = 0
    rows: list = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "lineitem": self.lineitem,
            "posted": self.posted,
            "unchanged": self.unchanged,
            "failed": self.failed,
            "rows": self.rows,
        }


def _column(header: list[str], names) -> str | None:
    return next((name for name in names if name in header), None)


def read_rows(text: str) -> tuple[list[dict], str | None, str | None, str | None]:
    """The rows of a grades file, and which of its columns hold the user, e-mail and maximum."""
    reader = csv.DictReader(io.StringIO(text))
    try:
        header = [h.strip().lower() for h in reader.fieldnames or []]
    except csv.Error as exc:
        raise BadRequest(N_("the file is not CSV (%(exc)s)"), field="file", exc=exc) from None
    if "score" not in header:
        raise BadRequest(N_("the file needs a header row with a score column"), field="file")
    user_column, email_column = _column(header, USER_COLUMNS), _column(header, ("email",))
    if user_column is None and email_column is None:
        raise BadRequest(
            N_("the file needs a user_id (or student_id) or an email column"), field="file"
        )
    rows = []
    try:
        for raw in reader:
            if len(rows) >= MAX_ROWS:
                raise BadRequest(
                    N_("a grades file holds at most %(max_rows)s rows"),
                    field="file",
                    max_rows=MAX_ROWS,
                )
            rows.append(
                {
                    k.strip().lower(): (v or "").strip() if isinstance(v, str) else ""
                    for k, v in raw.items()
                    if k
                }
            )
    except csv.Error as exc:
        raise BadRequest(N_("the file is not CSV (%(exc)s)"), field="file", exc=exc) from None
    return rows, user_column, email_column, _column(header, MAXIMUM_COLUMNS)


def _course_lineitem(gw: Gateway, platform: LtiPlatform, context: str) -> str:
    with gw.db.read() as session:
        found = session.scalars(
            select(LtiHandIn.lineitem_url)
            .join(UserProject, UserProject.id == LtiHandIn.user_project_id)
            .where(
                LtiHandIn.platform_id == platform.id,
                UserProject.context == context,
                LtiHandIn.lineitem_url.is_not(None),
            )
            .distinct()
        ).all()
    if len(found) == 1:
        return found[0]
    if not found:
        raise NotFound(N_("no hand-in of this course names a line item yet: give --lineitem URL"))
    raise BadRequest(
        N_("this course's hand-ins name several line items; choose one with --lineitem: %(items)s"),
        items=", ".join(sorted(found)),
        field="lineitem",
    )


class _Learners:
    """The course's learners the gateway knows, by LTI user id and by e-mail."""

    def __init__(self, gw: Gateway, platform: LtiPlatform, host_id: str, context: str):
        self.gw, self.platform, self.host_id, self.context = gw, platform, host_id, context

    def by_user_id(self, subject: str) -> str | None:
        external = identity.user_id(self.platform.issuer, subject)
        row = self.gw.db.fetch(
            select(HostUser.id)
            .join(UserProject, UserProject.user_id == HostUser.id)
            .where(
                HostUser.host_id == self.host_id,
                HostUser.external_id == external,
                UserProject.context == self.context,
            )
        )
        return subject if row else None

    def by_email(self, email: str) -> str | None:
        """An e-mail's LTI user id, from the course's graded launches and hand-ins (the
        gateway keeps only a digest of the user id with the user)."""
        wanted = func.lower(HostUser.email) == email.lower()
        from_hand_ins = (
            select(LtiHandIn.subject)
            .join(UserProject, UserProject.id == LtiHandIn.user_project_id)
            .join(HostUser, HostUser.id == UserProject.user_id)
            .where(LtiHandIn.platform_id == self.platform.id, UserProject.context == self.context)
            .where(wanted)
        )
        from_launches = (
            select(LtiGradeLink.subject)
            .join(Launch, Launch.digest == LtiGradeLink.launch_digest)
            .join(UserProject, UserProject.id == Launch.user_project_id)
            .join(HostUser, HostUser.id == Launch.user_id)
            .where(
                LtiGradeLink.platform_id == self.platform.id, UserProject.context == self.context
            )
            .where(wanted)
        )
        with self.gw.db.read() as session:
            found = set(session.scalars(from_hand_ins.union(from_launches)).all())
        return found.pop() if len(found) == 1 else None


def push(
    gw: Gateway, platform_id: str, context_id: str, text: str, *, lineitem: str | None = None
) -> PushSummary:
    """Post every row's grade to the column; report each row's outcome."""
    platform = platforms.get(gw, platform_id)
    context = identity.context_of(platform.issuer, context_id)
    rows, user_column, email_column, maximum_column = read_rows(text)
    if lineitem:
        lineitem = platforms.check_url(lineitem, "lineitem")
    else:
        lineitem = _course_lineitem(gw, platform, context)
    learners = _Learners(gw, platform, platform.host_id, context)
    summary = PushSummary(lineitem)
    for number, row in enumerate(rows, start=2):  # line 1 is the header
        named = row.get(user_column or "") or row.get(email_column or "") or ""
        outcome = {"line": number, "user": named}
        try:
            subject = None
            if user_column and row.get(user_column):
                subject = learners.by_user_id(row[user_column])
            elif email_column and row.get(email_column):
                subject = learners.by_email(row[email_column])
            if subject is None:
                raise NotFound(N_("not a learner of this course that the gateway knows"))
            maximum = row.get(maximum_column or "") or DEFAULT_MAXIMUM
            given = scores.grade_of(row.get("score"), maximum, row.get("comment"))
            outcome.update(scores.post(gw, platform, lineitem, subject, given).as_dict())
        except GatewayError as exc:  # this row's failure; the others go on
            outcome.update(status="failed", error=exc.message)
        summary.rows.append(outcome)
        key = outcome["status"]
        setattr(summary, key, getattr(summary, key) + 1)
    return summary
