"""Provisioning: each host user gets one CoCalc account, one project per context, a token.

The rules, in the order a first launch meets them:

1. The user's rows are written (with a random CoCalc password, encrypted, and the made-up
   address the account will have) before CoCalc is asked for anything, so a lost reply can
   always be recovered from (``records``, ``accounts``).
2. Creating the account and creating the project do not depend on each other and run at
   the same time; so do adding the user to the project and fetching their token.
3. Each step runs under a database lock named after what it creates and re-reads the row
   first, so any number of threads or processes make each thing exactly once
   (``accounts``, ``projects``, ``collaborators``, ``tokens``).
4. A step that fails leaves everything before it in place; the next launch continues there.

A user who is already set up (``readiness``) costs one query and no CoCalc call.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future
from dataclasses import dataclass

from ..cocalc import CoCalcUnsupported
from ..cocalc.types import AuthToken
from ..context import Gateway
from ..store.models import Host
from ..support import concurrency
from ..support.counters import LAUNCH_PATHS
from . import readiness, tokens
from .accounts import ensure_account
from .collaborators import ensure_collaborator
from .profile import UserProfile, validate
from .projects import ensure_project, maybe_start_project
from .records import ensure_rows

__all__ = ["Provisioned", "UserProfile", "find_ready", "provision", "validate"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Provisioned:
    user_id: int
    user_project_id: int
    account_id: str
    project_id: str
    #: True when this call did set-up work (created something, or fetched a token).
    did_work: bool
    #: What this call did: "account", "project", "template", "collaborator", "token".
    steps: frozenset = frozenset()
    #: The usable cached token found by a ready user's look-up (None otherwise).
    token: AuthToken | None = None

    @property
    def created(self) -> bool:
        """Whether this call created the user's account or a project."""
        return bool(self.steps & {"account", "project"})


def find_ready(gw: Gateway, host: Host, profile: UserProfile, context: str, with_token: bool):
    """Find a user who is fully set up, with one query; None if anything is missing."""
    params = readiness.parameters(host, profile, context, tokens.margin(gw))
    spare = tokens.revocation_enabled(gw)
    row = gw.db.fetch(readiness.FIND_READY[spare], params)
    if row is None or (with_token and row.token_encrypted is None):
        return None
    token = None
    if row.token_encrypted is not None and not spare:  # a spare is taken by its page alone
        token = AuthToken(gw.box.decrypt(row.token_encrypted), row.token_expires_at)
    ready = Provisioned(
        row.user_id, row.user_project_id, row.account_id, row.project_id, False, token=token
    )
    return ready, row.started_at


def provision(
    gw: Gateway, host: Host, profile: UserProfile, context: str = "", *, with_token: bool = True
) -> Provisioned:
    """Make sure the user has an account, a project for ``context`` and a fresh token."""
    profile, context = validate(profile, context)
    # With revocation, each page gets a token of its own (``tokens.for_page``): a ready user
    # without a spare is still ready, and needs none of the set-up steps.
    found = find_ready(gw, host, profile, context, with_token and not tokens.revocation_enabled(gw))
    LAUNCH_PATHS.labels("warm" if found else "cold").inc()
    if found is not None:
        ready, started_at = found
        maybe_start_project(gw, ready.user_project_id, ready.project_id, started_at)
        return ready
    rows = ensure_rows(gw, host, profile, context)
    user_id, user_project_id = rows.user_id, rows.user_project_id
    renamed = {k: rows.changes.get(k) for k in ("first_name", "last_name")}
    if rows.account_id and any(renamed.values()):
        sync_names(gw, rows.account_id, renamed["first_name"], renamed["last_name"])
    # Two chains at the same time: account, then token; project, then (once the account
    # exists) the invitation. Each call starts as soon as what it needs is there.
    account, made = Future(), []

    def account_then_token() -> str:
        try:
            account_id = ensure_account(gw, user_id, made=made)
        except BaseException as exc:
            account.set_exception(exc)
            raise
        account.set_result(account_id)
        if with_token:
            tokens.prepare(gw, user_id, account_id)
            made.append("token")
        return account_id

    def project_then_invitation() -> str:
        project_id = ensure_project(gw, user_project_id, host, made=made)
        ensure_collaborator(gw, user_project_id, project_id, account.result(), made=made)
        return project_id

    account_id, project_id = concurrency.run_together(account_then_token, project_then_invitation)
    steps = frozenset(made)
    return Provisioned(user_id, user_project_id, account_id, project_id, True, steps)


def sync_names(gw: Gateway, account_id: str, first_name, last_name) -> None:
    """Copy changed names to the CoCalc account, in the background, where the API allows
    (a name not given stays as it is)."""

    def work():
        try:
            gw.cocalc.set_account_name(account_id, first_name, last_name)
        except CoCalcUnsupported:
            log.info("this CoCalc dialect cannot rename accounts; the gateway's row has the name")

    gw.background.submit("rename account", work)
