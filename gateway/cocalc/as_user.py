"""What the current API lets only an account itself do: stop or delete its own projects,
delete itself. The gateway signs in as the user in a throw-away browser session (never the
client's own, which keeps no cookie: a cookie beats the API key on CoCalc's REST
endpoints), does it, and lets the session go, revoking its token."""

from __future__ import annotations

import logging
from contextlib import contextmanager

from .client import UserSession
from .errors import CoCalcError, CoCalcProtocolError

log = logging.getLogger(__name__)


class AsUser:
    """The current client's half that acts as one of its users (``CurrentClient`` has it)."""

    def delete_account(self, account_id) -> None:
        # The current API deletes only the signed-in account (/api/v2/accounts/delete), and
        # leaves its projects as they are, running ones included ("My First Project" of the
        # sign-up): sign in as the user in a throw-away session (never the client's own,
        # which keeps no cookie), delete the user's projects (deleting stops them), then
        # the account, and let the session go.
        with self._as_user(account_id) as browser:
            for project in self._projects_of_session(browser):
                browser.post("/api/v2/projects/delete", json={"project_id": project})
            reply = browser.post("/api/v2/accounts/delete", json={})
        # SuccessStatus, {"status": "success"} (next/lib/api/status.ts); "ok" is OkStatus.
        if not isinstance(reply, dict) or reply.get("status") not in ("success", "ok"):
            raise CoCalcProtocolError("the account was not deleted", endpoint="accounts/delete")

    signup_makes_a_project = True

    @contextmanager
    def user_session(self, account_id):
        # The account's own projects: only it (or a collaborator) may stop one
        # (projects/stop.ts wants a collaborator; admins are not exempt).
        with self._as_user(account_id) as browser:
            yield _SessionOfUser(browser)

    @contextmanager
    def _as_user(self, account_id):
        """A throw-away browser session signed in as the account, its token revoked after
        (if CoCalc cannot revoke it now, the work done stands: the token never left the
        gateway, and it runs out by itself)."""
        token = self.user_auth(account_id, "").token
        try:
            with self.transport.browser_session() as browser:
                browser.get("/auth/impersonate", params={"auth_token": token})
                yield browser
        finally:
            try:
                self.revoke_token(token)
            except CoCalcError as exc:
                log.warning("a session token was not revoked (%s)", type(exc).__name__)

    @staticmethod
    def _projects_of_session(browser) -> list[str]:
        found = browser.post("/api/v2/projects/get", json={"limit": 100})
        if not isinstance(found, list):
            raise CoCalcProtocolError("reply is not a list", endpoint="projects/get")
        return [p["project_id"] for p in found if isinstance(p, dict) and p.get("project_id")]


class _SessionOfUser(UserSession):
    """A throw-away browser session signed in as one account (``CurrentClient._as_user``)."""

    def __init__(self, browser):
        self.browser = browser

    def projects(self) -> list[str]:
        return AsUser._projects_of_session(self.browser)

    def stop(self, project_id: str) -> None:
        self.browser.post("/api/v2/projects/stop", json={"project_id": project_id})
