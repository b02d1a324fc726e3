"""Provisioning: each host user gets one CoCalc account, one project per context, a token.

The rules, in the order a first launch meets them:

1. The user's row is written (with a new random CoCalc password, encrypted) before CoCalc
   is asked for anything, so a lost reply can always be recovered from.
2. Creating the account and creating the project do not depend on each other and run at
   the same time; so do adding the user to the project and fetching their token.
3. Each step runs under a database lock named after what it creates and re-reads the row
   first, so any number of threads or processes make each thing exactly once.
4. A step that fails leaves everything before it in place; the next launch continues there.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import time
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from ..cocalc import AccountCreationFailed, CoCalcAPIError, CoCalcError
from ..cocalc.types import AuthToken
from ..context import Gateway
from ..errors import BadRequest, Conflict
from ..store.locks import db_lock
from ..store.models import CachedToken, Host, HostUser, UserProject, utcnow
from ..support import concurrency
from ..support.counters import LAUNCH_PATHS, PROVISIONING_FAILURES
from . import tokens
from .profile import UserProfile, stable_email, validate

log = logging.getLogger(__name__)

COPY_POLL_S = 0.2
COPY_WAIT_S = 120


@dataclass(frozen=True)
class Provisioned:
    user_id: int
    user_project_id: int
    account_id: str
    project_id: str
    cold: bool
    #: The cached token found by a warm launch (None after a cold one).
    token: AuthToken | None = None


class ForeignAccount(Conflict):
    """Raised when the user's e-mail belongs to a CoCalc account the gateway did not create."""


def _new_user(gw: Gateway, host: Host, profile: UserProfile) -> dict:
    return {
        "host_id": host.id,
        "external_id": profile.external_id,
        "email": profile.email
        or stable_email(host.id, profile.external_id, gw.settings["GATEWAY_EMAIL_DOMAIN"]),
        "first_name": profile.first_name or "CoCalc",
        "last_name": profile.last_name or "User",
        # Long and random: passes both dialects' length rules and the strength check.
        "password_encrypted": gw.box.encrypt(secrets.token_urlsafe(32)),
        "created_at": utcnow(),
    }


def _rows(gw: Gateway, host: Host, profile: UserProfile, context: str) -> tuple[int, int]:
    """Return the ids of the user's row and their project row, creating what is missing.

    Two requests that both create are normal: a unique constraint decides, and the loser
    reads the winner's row.
    """
    try:
        with gw.db.engine.begin() as connection:  # a new user: both rows in one transaction
            user_id = connection.execute(
                insert(HostUser).returning(HostUser.id), _new_user(gw, host, profile)
            ).scalar_one()
            project_id = connection.execute(
                insert(UserProject).returning(UserProject.id),
                {
                    "user_id": user_id,
                    "context": context,
                    "template_copied": False,
                    "collaborator_added": False,
                },
            ).scalar_one()
        return user_id, project_id
    except IntegrityError:
        pass
    user_id = gw.db.fetch(
        select(HostUser.id).where(
            HostUser.host_id == host.id, HostUser.external_id == profile.external_id
        )
    )
    if user_id is None:
        raise Conflict(
            "this e-mail address is already used by another user of this gateway", field="email"
        )
    user_id = user_id[0]
    query = select(UserProject.id).where(
        UserProject.user_id == user_id, UserProject.context == context
    )
    found = gw.db.fetch(query)
    if found is None:
        with contextlib.suppress(IntegrityError):  # or created meanwhile by another request
            gw.db.write(
                (
                    insert(UserProject),
                    {
                        "user_id": user_id,
                        "context": context,
                        "template_copied": False,
                        "collaborator_added": False,
                    },
                )
            )
        found = gw.db.fetch(query)
    return user_id, found[0]


# Built once, run through Core: a warm launch is the hot path, and building a statement or
# an ORM session costs more than running the query.
WARM_QUERY = (
    select(
        HostUser.id.label("user_id"),
        HostUser.account_id,
        UserProject.id.label("user_project_id"),
        UserProject.project_id,
        UserProject.collaborator_added,
        UserProject.template_copied,
        UserProject.started_at,
        CachedToken.token_encrypted,
        CachedToken.expires_at,
    )
    .join(
        UserProject,
        and_(UserProject.user_id == HostUser.id, UserProject.context == bindparam("context")),
    )
    .outerjoin(CachedToken, CachedToken.user_id == HostUser.id)
    .where(
        HostUser.host_id == bindparam("host_id"), HostUser.external_id == bindparam("external_id")
    )
)


def _ready(row, host: Host) -> bool:
    templated = row.template_copied or not host.template_project_id
    return bool(row.account_id and row.project_id and row.collaborator_added and templated)


def _warm(gw: Gateway, host: Host, external_id: str, context: str, with_token: bool):
    """Find a user who is fully set up, with one query; None if anything is missing."""
    row = gw.db.fetch(
        WARM_QUERY, {"context": context, "host_id": host.id, "external_id": external_id}
    )
    if row is None or not _ready(row, host):
        return None
    token = tokens.usable(gw, row.token_encrypted, row.expires_at)
    if with_token and token is None:
        return None
    return Provisioned(
        row.user_id, row.user_project_id, row.account_id, row.project_id, cold=False, token=token
    ), row


def provision(
    gw: Gateway, host: Host, profile: UserProfile, context: str = "", *, with_token: bool = True
) -> Provisioned:
    """Make sure the user has an account, a project for ``context`` and a fresh token."""
    profile, context = validate(profile, context)
    warm = _warm(gw, host, profile.external_id, context, with_token)
    LAUNCH_PATHS.labels("warm" if warm else "cold").inc()
    if warm is not None:
        provisioned, row = warm
        maybe_start_project(gw, row.user_project_id, row.project_id, row.started_at)
        return provisioned
    user_id, user_project_id = _rows(gw, host, profile, context)
    # Two chains at the same time: account, then token; project, then (once the account
    # exists) the invitation. Each call starts as soon as what it needs is there.
    account = Future()

    def account_then_token() -> str:
        try:
            account_id = ensure_account(gw, user_id)
        except BaseException as exc:
            account.set_exception(exc)
            raise
        account.set_result(account_id)
        if with_token:
            tokens.ensure(gw, user_id, account_id)
        return account_id

    def project_then_invitation() -> str:
        project_id = ensure_project(gw, user_project_id, host)
        ensure_collaborator(gw, user_project_id, project_id, account.result())
        return project_id

    try:
        account_id, project_id = concurrency.run_together(
            account_then_token, project_then_invitation
        )
    except ForeignAccount:
        _forget_user(gw, user_id)
        raise
    return Provisioned(user_id, user_project_id, account_id, project_id, cold=True)


def _step(name: str):
    """Count a failed provisioning step in the metrics and let the error go on."""

    def wrap(fn):
        def run(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except Exception as exc:
                PROVISIONING_FAILURES.labels(name, type(exc).__name__).inc()
                raise

        return run

    return wrap


@_step("account")
def ensure_account(gw: Gateway, user_id: int) -> str:
    with db_lock(gw.db, f"account:{user_id}") as db:
        user = db.fetch(select(HostUser).where(HostUser.id == user_id))
        if user.account_id:
            return user.account_id
        password = gw.box.decrypt(user.password_encrypted)
        try:
            account_id = gw.cocalc.create_account(
                first_name=user.first_name,
                last_name=user.last_name,
                email=user.email,
                password=password,
            ).account_id
        except AccountCreationFailed as exc:
            if not exc.email_taken:
                raise _account_refused(exc) from None
            account_id = _recover_account(gw, db, user, password)
        db.write((update(HostUser).where(HostUser.id == user_id), {"account_id": account_id}))
        return account_id


def _account_refused(exc: AccountCreationFailed) -> Exception:
    if "token" in exc.reason:
        return CoCalcAPIError(
            "CoCalc requires a registration token (set COCALC_REGISTRATION_TOKEN)",
            endpoint=exc.endpoint,
        )
    if "email_address" in exc.reason or "email" in exc.reason:
        return BadRequest("CoCalc does not accept this user's e-mail address", field="email")
    return exc  # rate limits and other refusals: a CoCalc failure, maybe temporary


def _recover_account(gw: Gateway, db, user: HostUser, password: str) -> str:
    """The e-mail has an account: ours if our stored password opens it (a lost reply)."""
    account_id = gw.cocalc.find_account_by_email(user.email)
    if account_id is None:
        raise ForeignAccount(
            "CoCalc says this user's e-mail address is taken, but cannot find its account",
            field="email",
        )
    try:
        token = gw.cocalc.user_auth(account_id, password)
    except CoCalcAPIError:
        raise ForeignAccount(
            "this user's e-mail address belongs to a CoCalc account that this gateway did "
            "not create; ask the user to use another address or an administrator to link it",
            field="email",
        ) from None
    log.info("recovered account of user %s after a lost reply", user.id)
    tokens.store(gw, user.id, token, db=db)
    return account_id


def _forget_user(gw: Gateway, user_id: int) -> None:
    """Undo a user who cannot get an account, leaving the database as before the launch."""
    with gw.db.begin() as session:
        for project in session.scalars(select(UserProject).where(UserProject.user_id == user_id)):
            if project.project_id:
                log.warning(
                    "project %s was created for a user who cannot get an account; "
                    "it stays in the gateway's CoCalc account unused",
                    project.project_id,
                )
        session.execute(delete(HostUser).where(HostUser.id == user_id))


@_step("project")
def ensure_project(gw: Gateway, user_project_id: int, host: Host) -> str:
    where = UserProject.id == user_project_id
    with db_lock(gw.db, f"project:{user_project_id}") as db:
        row = db.fetch(select(UserProject).where(where))
        project_id = row.project_id
        if not project_id:
            title = host.name + (f": {row.context}" if row.context else "")
            project_id = gw.cocalc.create_project(
                title=title, description="Created by cocalc-gateway", start=True
            ).project_id
            db.write(
                (
                    update(UserProject).where(where),
                    {"project_id": project_id, "started_at": utcnow()},
                )
            )
        if host.template_project_id and not row.template_copied:
            copy_template(gw, host, project_id)
            db.write((update(UserProject).where(where), {"template_copied": True}))
        return project_id


def copy_template(gw: Gateway, host: Host, project_id: str) -> None:
    """Copy the host's template into a new project and wait until the copy is done."""
    started = gw.cocalc.copy_path_between_projects(
        src_project_id=host.template_project_id,
        src_path=host.template_path or "",
        target_project_id=project_id,
        wait_until_done=True,
    )
    if started.copy_path_id is None:
        return
    deadline = time.monotonic() + COPY_WAIT_S
    while time.monotonic() < deadline:
        status = gw.cocalc.copy_path_status(started.copy_path_id)
        if status.error:
            raise CoCalcAPIError(
                f"copying the template failed: {status.error}", endpoint="copy_path_status"
            )
        if status.finished:
            return
        time.sleep(COPY_POLL_S)
    raise CoCalcError("copying the template did not finish in time", endpoint="copy_path_status")


@_step("collaborator")
def ensure_collaborator(
    gw: Gateway, user_project_id: int, project_id: str, account_id: str
) -> None:
    where = UserProject.id == user_project_id
    with db_lock(gw.db, f"collaborator:{user_project_id}") as db:
        if db.fetch(select(UserProject.collaborator_added).where(where))[0]:
            return
        gw.cocalc.invite_collaborator(project_id, account_id)
        db.write((update(UserProject).where(where), {"collaborator_added": True}))


def maybe_start_project(gw: Gateway, user_project_id: int, project_id: str, started_at) -> None:
    """Ask CoCalc, in the background, to start a project not started for a while.

    CoCalc stops idle projects, and its kiosk page does not start a stopped one; the warm
    launch itself must not wait for CoCalc, so the start runs beside it.
    """
    interval = timedelta(seconds=int(gw.settings.get("GATEWAY_PROJECT_START_INTERVAL", 600)))
    now = utcnow()
    if started_at and now - started_at < interval:
        return
    with gw.db.begin() as session:
        stored = session.get(UserProject, user_project_id)
        if stored.started_at and now - stored.started_at < interval:
            return  # another launch got here first
        stored.started_at = now
    concurrency.submit("start project", lambda: gw.cocalc.start_project(project_id))
