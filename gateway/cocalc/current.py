"""The current CoCalc API (cocalc.com, builds since mid-2025): REST v2 plus the conat hub RPC."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from .as_user import AsUser
from .client import CoCalcClient, creation_marker, exec_output
from .errors import CoCalcAPIError, CoCalcProtocolError, CoCalcUnsupported
from .types import (
    Account,
    AuthToken,
    BrowserSignIn,
    CopyStarted,
    CopyStatus,
    ExecOutput,
    FileContent,
    Pong,
    Project,
    UserSearchResult,
)

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class CurrentClient(AsUser, CoCalcClient):
    """Speak the current API; failures arrive as HTTP 200 ``{"error"}`` or ``{"issues"}``."""

    dialect = "current"
    token_lifetime = timedelta(hours=24)
    supports_revocation = True

    def __init__(self, transport, *, organization: str | None = None):
        super().__init__(transport)
        self.organization = organization
        #: Site admins may choose a new project's id, which makes creation idempotent; an
        #: organisation admin's key may not (then a marked description is searched for).
        self.chooses_project_ids = True

    def _hub(self, name: str, *args: Any, idempotent: bool) -> Any:
        body = {"name": name, "args": list(args), "timeout": int(self.transport.timeout * 1000)}
        return self.transport.post("/api/conat/hub", body, endpoint=name, idempotent=idempotent)

    def _rest(self, path: str, body: dict, *, idempotent: bool, runs_for: float = 0.0) -> Any:
        return self.transport.post(
            f"/api/v2/{path}", body, endpoint=path, idempotent=idempotent, runs_for=runs_for
        )

    @staticmethod
    def _uuid(value: Any, endpoint: str) -> str:
        if not isinstance(value, str) or not UUID_RE.match(value):
            raise CoCalcProtocolError("reply is not an id", endpoint=endpoint)
        return value

    def ping(self) -> Pong:
        reply = self._hub("system.ping", idempotent=True)
        if not isinstance(reply, dict) or "now" not in reply:
            raise CoCalcProtocolError("reply lacks 'now'", endpoint="system.ping")
        return Pong(now=str(reply["now"]))

    def create_account(self, *, first_name, last_name, email, password) -> Account:
        if self.organization:
            reply = self._hub(
                "org.createUser",
                {
                    "name": self.organization,
                    "email": email,
                    "firstName": first_name,
                    "lastName": last_name,
                    "password": password,
                },
                idempotent=False,
            )
            return Account(account_id=self._uuid(reply, "org.createUser"))
        reply = self._rest(
            "auth/sign-up",
            {
                "email": email,
                "password": password,
                "firstName": first_name,
                "lastName": last_name,
                "terms": True,
            },
            idempotent=False,
        )
        account_id = reply.get("account_id") if isinstance(reply, dict) else None
        return Account(account_id=self._uuid(account_id, "auth/sign-up"))

    def create_project(self, *, title, description="", start=True) -> Project:
        reply = self._hub(
            "projects.createProject",
            {"title": title, "description": description, "start": start},
            idempotent=False,
        )
        return Project(project_id=self._uuid(reply, "projects.createProject"))

    def create_project_once(self, *, key, title, retry) -> Project:
        description = creation_marker(key)
        if self.chooses_project_ids:
            opts = {"title": title, "description": description, "start": True, "project_id": key}
            try:
                reply = self._hub("projects.createProject", opts, idempotent=False)
            except CoCalcAPIError as exc:
                if "duplicate key" in exc.message:
                    return Project(project_id=key)  # made by the earlier call with this key
                if "only admins can specify" not in exc.message:
                    raise
                self.chooses_project_ids = False  # nothing was created: go on without an id
            else:
                return Project(project_id=self._uuid(reply, "projects.createProject"))
        if retry:
            found = self.find_own_project(description)
            if found:
                return Project(project_id=found)
        return self.create_project(title=title, description=description, start=True)

    def find_own_project(self, description: str) -> str | None:
        """Return the id of a recent project of the key's account with this description."""
        reply = self._rest("projects/get", {"limit": 200}, idempotent=True)
        for row in reply if isinstance(reply, list) else []:
            if isinstance(row, dict) and row.get("description") == description:
                return row.get("project_id")
        return None

    def start_project(self, project_id) -> None:
        self._hub("projects.start", {"project_id": project_id}, idempotent=True)

    def invite_collaborator(self, project_id, account_id) -> None:
        opts = {"project_id": project_id, "account_id": account_id}
        self._hub("projects.addCollaborator", {"opts": opts}, idempotent=True)

    def remove_collaborator(self, project_id, account_id) -> None:
        opts = {"project_id": project_id, "account_id": account_id}
        self._hub("projects.removeCollaborator", {"opts": opts}, idempotent=True)

    def user_auth(self, account_id, password) -> AuthToken:
        if self.organization:
            reply = self._hub("org.createToken", {"user": account_id}, idempotent=False)
            token = reply.get("token") if isinstance(reply, dict) else None
        else:
            reply = self._hub(
                "system.generateUserAuthToken",
                {"user_account_id": account_id, "password": password},
                idempotent=False,
            )
            token = reply
        if not isinstance(token, str) or not token:
            raise CoCalcProtocolError("reply is not a token", endpoint="user_auth")
        return self._token(token)

    def key_is_admin(self) -> bool | None:
        # Only a site admin gets a token without the account's password (and CoCalc does not
        # check that the account exists); the probe's token is revoked at once.
        try:
            token = self._hub(
                "system.generateUserAuthToken",
                {"user_account_id": str(uuid.uuid4())},
                idempotent=False,
            )
        except CoCalcAPIError:
            return False
        if isinstance(token, str) and token:
            self.revoke_token(token)
            return True
        return None

    def delete_project(self, project_id) -> None:
        self._hub("projects.deleteProject", {"project_id": project_id}, idempotent=True)

    def set_account_name(self, account_id, first_name, last_name) -> None:
        body = {"account_id": account_id, "first_name": first_name, "last_name": last_name}
        self._rest("accounts/set-name", body, idempotent=True)

    def revoke_token(self, token: str) -> bool:
        if self.organization:
            self._hub("org.expireToken", {"token": token}, idempotent=True)
        else:
            self._hub("system.revokeUserAuthToken", token, idempotent=True)
        return True

    def user_search(self, query, limit=20) -> list[UserSearchResult]:
        reply = self._hub("system.userSearch", {"query": query, "limit": limit}, idempotent=True)
        if not isinstance(reply, list):
            raise CoCalcProtocolError("reply is not a list", endpoint="system.userSearch")
        return [
            UserSearchResult(
                account_id=r["account_id"],
                first_name=r.get("first_name") or "",
                last_name=r.get("last_name") or "",
                email_address=r.get("email_address"),
            )
            for r in reply
            if isinstance(r, dict) and "account_id" in r
        ]

    def copy_path_between_projects(
        self, *, src_project_id, src_path, target_project_id, target_path=None, wait_until_done=True
    ) -> CopyStarted:
        body = {
            "src_project_id": src_project_id,
            "path": src_path,
            "target_project_id": target_project_id,
        }
        if target_path is not None:
            body["target_path"] = target_path
        body["wait_until_done"] = wait_until_done
        reply = self._rest("projects/copy-path", body, idempotent=False)
        # {"copy_id": ""} once the copy is done; a non-empty id names a copy still running.
        copy_id = reply.get("copy_id") if isinstance(reply, dict) else None
        return CopyStarted(copy_path_id=copy_id or None)

    def copy_path_status(self, copy_path_id) -> CopyStatus:
        reply = self._rest("projects/copy-path-status", {"copy_id": copy_path_id}, idempotent=True)
        if not isinstance(reply, dict):
            raise CoCalcProtocolError("reply is not an object", endpoint="copy-path-status")
        return CopyStatus(
            copy_path_id=copy_path_id,
            started=reply.get("started"),
            finished=reply.get("finished"),
            error=reply.get("copy_error"),
        )

    def write_text_file_to_project(self, project_id, path, content) -> None:
        self._rest(
            "projects/write-text-file",
            {"project_id": project_id, "path": path, "content": content},
            idempotent=True,
        )

    def read_text_file_from_project(self, project_id, path) -> FileContent:
        raise CoCalcUnsupported("not offered by the current API", endpoint="read_text_file")

    def _user_query(self, query: dict):
        return self._rest("user-query", {"query": query}, idempotent=True), "user-query"

    def project_exec(self, project_id, command, *, args=None, timeout=10) -> ExecOutput:
        # CoCalc's err_on_exit defaults to true (an error, without the exit code): ask for it.
        body = {"project_id": project_id, "command": command, "timeout": timeout}
        body["err_on_exit"] = False
        if args:
            body["args"] = args
        reply = self._rest("exec", body, idempotent=False, runs_for=float(timeout))
        return exec_output(reply, "exec")

    def browser_sign_in(self, token, project_id, path) -> BrowserSignIn:
        # Current CoCalc ignores ?auth_token= on app URLs: sign in through /auth/impersonate
        # first (it sets the cookie), then load the kiosk page without a token.
        return BrowserSignIn(
            kiosk_url=self.kiosk_url(project_id, path),
            sign_in_url=f"{self.base_url}/auth/impersonate?{urlencode({'auth_token': token})}",
        )
