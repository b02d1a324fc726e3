"""The legacy API v1 (``POST /api/v1/<event>``), as served by CoCalc builds up to 2025-05."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from .client import CoCalcClient, creation_marker, exec_output
from .errors import CoCalcProtocolError, CoCalcUnsupported
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


class V1Client(CoCalcClient):
    """Speak API v1. Only documented fields are sent: the server rejects any other."""

    dialect = "v1"
    token_lifetime = timedelta(hours=12)
    supports_revocation = False

    def __init__(self, transport, *, registration_token: str | None = None):
        super().__init__(transport)
        self.registration_token = registration_token

    def _call(
        self,
        event: str,
        fields: dict[str, Any],
        *,
        expect: tuple[str, ...],
        idempotent: bool,
        runs_for: float = 0.0,
    ) -> dict[str, Any]:
        body = {k: v for k, v in fields.items() if v is not None}
        reply = self.transport.post(
            f"/api/v1/{event}", body, endpoint=event, idempotent=idempotent, runs_for=runs_for
        )
        if not isinstance(reply, dict) or reply.get("event") not in expect:
            got = reply.get("event") if isinstance(reply, dict) else type(reply).__name__
            raise CoCalcProtocolError(f"unexpected reply {got!r}", endpoint=event)
        return reply

    @staticmethod
    def _field(reply: dict[str, Any], name: str, event: str) -> Any:
        if name not in reply:
            raise CoCalcProtocolError(f"reply lacks {name!r}", endpoint=event)
        return reply[name]

    def ping(self) -> Pong:
        reply = self._call("ping", {}, expect=("pong",), idempotent=True)
        return Pong(now=str(reply.get("now", "")))

    def create_account(self, *, first_name, last_name, email, password) -> Account:
        reply = self._call(
            "create_account",
            {
                "first_name": first_name,
                "last_name": last_name,
                "email_address": email,
                "password": password,
                "agreed_to_terms": True,
                "token": self.registration_token,
            },
            expect=("account_created",),
            idempotent=False,
        )
        return Account(account_id=self._field(reply, "account_id", "create_account"))

    def create_project(self, *, title, description="", start=True) -> Project:
        reply = self._call(
            "create_project",
            {"title": title, "description": description, "start": start},
            expect=("project_created",),
            idempotent=False,
        )
        return Project(project_id=self._field(reply, "project_id", "create_project"))

    def create_project_once(self, *, key, title, retry) -> Project:
        # API v1 takes no project id from the caller: the description carries the key, and
        # a retry first asks (a documented user query) for a project with that description.
        description = creation_marker(key)
        if retry:
            found = self.find_own_project(description)
            if found:
                return Project(project_id=found)
        return self.create_project(title=title, description=description, start=True)

    def find_own_project(self, description: str) -> str | None:
        """Return the id of the key's project with exactly this description, if any."""
        query = {"projects": [{"project_id": None, "description": description}]}
        reply = self._call("query", {"query": query}, expect=("query",), idempotent=True)
        rows = (reply.get("query") or {}).get("projects") or []
        for row in rows if isinstance(rows, list) else [rows]:
            if isinstance(row, dict) and row.get("description") == description:
                return row.get("project_id")
        return None

    def delete_account(self, account_id: str) -> None:
        # The v1-era hub answers delete_account "is not part of the HTTP API" (it serves
        # only messages marked API(...)): the account stays in CoCalc (section 7d).
        raise CoCalcUnsupported(
            "API v1 cannot delete accounts over HTTP: the account stays in CoCalc "
            "(its projects were stopped and marked deleted; a CoCalc admin can delete it)",
            endpoint="delete_account",
        )

    def delete_project(self, project_id: str) -> None:
        # The documented user query on a project of the key's account: stop it (an
        # ``action_request``, which the hub carries out), then mark it deleted (which alone
        # would leave it running).
        stop = {"action": "stop", "time": datetime.now(UTC).isoformat()}
        for change in ({"action_request": stop}, {"deleted": True}):
            query = {"projects": {"project_id": project_id, **change}}
            self._call("query", {"query": query}, expect=("query",), idempotent=True)

    def start_project(self, project_id: str) -> None:
        # API v1 has no "start" event; running any command starts a stopped project.
        self.project_exec(project_id, "true")

    def invite_collaborator(self, project_id, account_id) -> None:
        # Adding an existing collaborator again is harmless, so a retry is safe.
        self._call(
            "invite_collaborator",
            {"project_id": project_id, "account_id": account_id},
            expect=("success",),
            idempotent=True,
        )

    def remove_collaborator(self, project_id, account_id) -> None:
        self._call(
            "remove_collaborator",
            {"project_id": project_id, "account_id": account_id},
            expect=("success",),
            idempotent=True,
        )

    def user_auth(self, account_id, password) -> AuthToken:
        # Not retried: a wrong password blocks the (key, account) pair for 60 s.
        reply = self._call(
            "user_auth",
            {"account_id": account_id, "password": password},
            expect=("user_auth_token",),
            idempotent=False,
        )
        return self._token(self._field(reply, "auth_token", "user_auth"))

    def user_search(self, query, limit=20) -> list[UserSearchResult]:
        reply = self._call(
            "user_search",
            {"query": query, "limit": limit},
            expect=("user_search_results",),
            idempotent=True,
        )
        return [
            UserSearchResult(
                account_id=r["account_id"],
                first_name=r.get("first_name", ""),
                last_name=r.get("last_name", ""),
                email_address=r.get("email_address"),
            )
            for r in reply.get("results", [])
            if isinstance(r, dict) and "account_id" in r
        ]

    def copy_path_between_projects(
        self, *, src_project_id, src_path, target_project_id, target_path=None, wait_until_done=True
    ) -> CopyStarted:
        reply = self._call(
            "copy_path_between_projects",
            {
                "src_project_id": src_project_id,
                "src_path": src_path,
                "target_project_id": target_project_id,
                "target_path": target_path,
                "wait_until_done": wait_until_done,
            },
            expect=("success", "copy_path_between_projects_response"),
            idempotent=False,
        )
        # A real server answers an empty copy_path_id once the copy is done, even with
        # wait_until_done; only a non-empty id names a copy to poll.
        return CopyStarted(copy_path_id=reply.get("copy_path_id") or None)

    def copy_path_status(self, copy_path_id) -> CopyStatus:
        reply = self._call(
            "copy_path_status",
            {"copy_path_id": copy_path_id},
            expect=("copy_path_status_response",),
            idempotent=True,
        )
        data = reply.get("data") or {}
        return CopyStatus(
            copy_path_id=copy_path_id,
            started=data.get("started"),
            finished=data.get("finished"),
            error=data.get("error"),
        )

    def write_text_file_to_project(self, project_id, path, content) -> None:
        self._call(
            "write_text_file_to_project",
            {"project_id": project_id, "path": path, "content": content},
            expect=("file_written_to_project",),
            idempotent=True,
        )

    def read_text_file_from_project(self, project_id, path) -> FileContent:
        reply = self._call(
            "read_text_file_from_project",
            {"project_id": project_id, "path": path},
            expect=("text_file_read_from_project",),
            idempotent=True,
        )
        return FileContent(content=self._field(reply, "content", "read_text_file_from_project"))

    def _user_query(self, query: dict):
        return self._call("query", {"query": query}, expect=("query",), idempotent=True), "query"

    def project_exec(self, project_id, command, *, args=None, timeout=10) -> ExecOutput:
        reply = self._call(
            "project_exec",
            {
                "project_id": project_id,
                "command": command,
                "args": args,
                "timeout": timeout,
                "err_on_exit": False,  # the exit code, not an error (see current.py)
            },
            expect=("project_exec_output",),
            idempotent=False,
            runs_for=float(timeout),
        )
        return exec_output(reply, "project_exec")

    def browser_sign_in(self, token, project_id, path) -> BrowserSignIn:
        # v1-era CoCalc reads ?auth_token= on any app URL, the kiosk URL included.
        return BrowserSignIn(kiosk_url=self.kiosk_url(project_id, path, auth_token=token))
