"""Host users for the CLI: bulk import from CSV, list, show (``lifecycle``: leave, erase)."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from sqlalchemy import select

from .. import provisioning
from ..cocalc import CoCalcError
from ..context import Gateway
from ..errors import N_, BadRequest, GatewayError, NotFound
from ..store.models import Host, HostUser, UserProject
from .profile import UserProfile

CSV_COLUMNS = ("id", "email", "first_name", "last_name", "context")


@dataclass
class ImportSummary:
    created: int = 0
    completed: int = 0
    skipped: int = 0
    failed: list[dict] = field(default_factory=list)
    parallelism: int = 1

    def as_dict(self) -> dict:
        return {
            "created": self.created,
            "completed": self.completed,
            "skipped": self.skipped,
            "failed": len(self.failed),
            "failures": self.failed[:50],
            "parallelism": self.parallelism,
        }


def read_csv(lines: Iterable[str]) -> list[tuple[UserProfile, str]]:
    """Parse ``id,email,first_name,last_name[,context]`` rows (a header row is required)."""
    reader = csv.DictReader(lines)
    if not reader.fieldnames or "id" not in reader.fieldnames:
        raise BadRequest(N_("the CSV needs a header row with at least an 'id' column"))
    unknown = set(reader.fieldnames) - set(CSV_COLUMNS)
    if unknown:
        raise BadRequest(N_("unknown CSV columns: %(detail)s"), detail=", ".join(sorted(unknown)))
    return [
        (
            UserProfile(
                external_id=row["id"] or "",
                email=row.get("email") or None,
                first_name=row.get("first_name") or None,
                last_name=row.get("last_name") or None,
            ),
            row.get("context") or "",
        )
        for row in reader
    ]


def count_as(result) -> str:
    """How an import counts a user: "created" (a new account or project), "completed" (an
    earlier, interrupted set-up finished), or "skipped" (set up before; a user who only
    needed a fresh token counts here too)."""
    if result.created:
        return "created"
    if result.steps & {"collaborator", "template"}:
        return "completed"
    return "skipped"


def import_users(
    gw: Gateway,
    host: Host,
    rows: list[tuple[UserProfile, str]],
    *,
    parallelism: int = 8,
    with_tokens: bool = False,
    progress: Callable[[int], None] = lambda n: None,
) -> ImportSummary:
    """Provision every row with bounded parallelism; safe to run again after an interruption.

    Each row is provisioned the same way a launch is, so a row that was finished before is
    "skipped" (no CoCalc call) and a half-finished one continues where it stopped.
    """
    summary = ImportSummary(parallelism=parallelism)

    def one(row):
        profile, context = row
        try:
            result = provisioning.provision(gw, host, profile, context, with_token=with_tokens)
            return count_as(result), None
        except (GatewayError, CoCalcError) as exc:
            return "failed", {"id": profile.external_id, "error": getattr(exc, "message", str(exc))}

    with ThreadPoolExecutor(max_workers=parallelism) as pool:
        for outcome, failure in pool.map(one, rows):
            if outcome == "failed":
                summary.failed.append(failure)
            else:
                setattr(summary, outcome, getattr(summary, outcome) + 1)
            progress(1)
    return summary


def describe(user: HostUser, projects: list[UserProject]) -> dict:
    return {
        "id": user.id,
        "host_id": user.host_id,
        "external_id": user.external_id,
        "email": user.email,
        "account_id": user.account_id,
        "created_at": user.created_at.isoformat() if user.created_at else None,
        "deprovisioned_at": user.deprovisioned_at.isoformat() if user.deprovisioned_at else None,
        "projects": [
            {
                "context": p.context,
                "project_id": p.project_id,
                "collaborator_added": p.collaborator_added,
            }
            for p in projects
        ],
    }


def profile_of(gw: Gateway, user_id: int) -> UserProfile:
    """What the gateway knows of one of its users, as a way in would say it."""
    with gw.db.read() as session:
        user = session.get(HostUser, user_id)
    if user is None:
        raise NotFound(N_("no such user"))
    return UserProfile(user.external_id, user.email, user.first_name, user.last_name)


def find(gw: Gateway, host_id: str, external_id: str) -> tuple[HostUser, list[UserProject]]:
    with gw.db.begin() as session:
        user = session.scalar(
            select(HostUser).where(HostUser.host_id == host_id, HostUser.external_id == external_id)
        )
        if user is None:
            raise NotFound(
                N_("no user %(external_id)r of host %(host_id)r"),
                external_id=external_id,
                host_id=host_id,
            )
        projects = list(session.scalars(select(UserProject).where(UserProject.user_id == user.id)))
    return user, projects


def list_users(gw: Gateway, host_id: str | None = None) -> list[tuple[HostUser, list]]:
    """Return every user (of one host, if given) with their projects, for ``describe``."""
    query = select(HostUser).order_by(HostUser.id)
    if host_id:
        query = query.where(HostUser.host_id == host_id)
    with gw.db.read() as session:
        users = list(session.scalars(query))
        projects: dict[int, list[UserProject]] = {}
        for project in session.scalars(select(UserProject).order_by(UserProject.id)):
            projects.setdefault(project.user_id, []).append(project)
    return [(user, projects.get(user.id, [])) for user in users]
