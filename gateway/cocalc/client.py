"""The interface every CoCalc dialect implements, so the gateway never asks which one it has."""

from __future__ import annotations

import abc
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urlencode, urlsplit

from .errors import CoCalcAPIError, CoCalcProtocolError, CoCalcUnsupported
from .transport import Transport
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


def site_settings_of(reply, endpoint: str) -> dict[str, str]:
    """The rows of a ``site_settings`` user query, as {name: value}."""
    rows = reply.get("query", {}).get("site_settings") if isinstance(reply, dict) else None
    if rows is None:
        return {}
    if not isinstance(rows, list):
        raise CoCalcProtocolError("site_settings is not a list", endpoint=endpoint)
    return {
        str(r["name"]): "" if r.get("value") is None else str(r["value"])
        for r in rows
        if isinstance(r, dict) and "name" in r
    }


def exec_output(reply, endpoint: str) -> ExecOutput:
    """A command's output, as both dialects answer it."""
    if not isinstance(reply, dict):
        raise CoCalcProtocolError("reply is not an object", endpoint=endpoint)
    return ExecOutput(
        stdout=str(reply.get("stdout") or ""),
        stderr=str(reply.get("stderr") or ""),
        exit_code=int(reply.get("exit_code") or 0),
    )


def creation_marker(key: str) -> str:
    """The description that marks a project the gateway created for ``key``."""
    return f"Created by cocalc-gateway (ref {key})"


def kiosk_path(project_id: str, path: str) -> str:
    """Build ``/projects/<id>/files/<path>`` with each path segment URL-encoded."""
    segments = "/".join(quote(part, safe="") for part in path.split("/"))
    return f"/projects/{quote(project_id, safe='')}/files/{segments}"


class UserSession(abc.ABC):
    """What the gateway does as one of its users (the current API lets only an account, or
    its collaborators, stop or delete its own projects)."""

    @abc.abstractmethod
    def projects(self) -> list[str]:
        """The account's projects (deleted and hidden ones left out)."""

    @abc.abstractmethod
    def stop(self, project_id: str) -> None: ...


class CoCalcClient(abc.ABC):
    """One object per CoCalc server; methods map one-to-one to what the gateway needs."""

    dialect: str
    #: How long a fresh auth token of this dialect stays valid.
    token_lifetime: timedelta
    #: Whether revoke_token really invalidates a token.
    supports_revocation: bool

    def __init__(self, transport: Transport):
        self.transport = transport
        self.base_url = transport.base_url
        parts = urlsplit(self.base_url)
        #: The scheme://host[:port] that CoCalc's pages are served from.
        self.origin = f"{parts.scheme}://{parts.netloc}"

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.base_url}>"

    def _token(self, token: str) -> AuthToken:
        return AuthToken(token=token, expires_at=datetime.now(UTC) + self.token_lifetime)

    @abc.abstractmethod
    def ping(self) -> Pong: ...

    @abc.abstractmethod
    def create_account(
        self, *, first_name: str, last_name: str, email: str, password: str
    ) -> Account: ...

    @abc.abstractmethod
    def create_project(self, *, title: str, description: str = "", start: bool = True) -> Project:
        """Create a project owned by the key's account (the gateway's)."""

    @abc.abstractmethod
    def create_project_once(self, *, key: str, title: str, retry: bool) -> Project:
        """Create a started project for ``key`` (a uuid the caller stored first), or return the
        one that an earlier call with the same key created when its reply was lost.

        ``retry`` says an earlier call with this key may have reached CoCalc.
        """

    @abc.abstractmethod
    def start_project(self, project_id: str) -> None: ...

    @abc.abstractmethod
    def invite_collaborator(self, project_id: str, account_id: str) -> None: ...

    @abc.abstractmethod
    def remove_collaborator(self, project_id: str, account_id: str) -> None: ...

    @abc.abstractmethod
    def user_auth(self, account_id: str, password: str) -> AuthToken: ...

    def key_is_admin(self) -> bool | None:
        """Tell whether the API key is a site admin's, where the dialect can tell; else None."""
        return None

    @abc.abstractmethod
    def _user_query(self, query: dict) -> tuple[object, str]:
        """Send a user query (the dialect's own endpoint); return (reply, endpoint)."""

    def site_settings(self) -> dict[str, str]:
        """CoCalc's site settings that were set (admin keys only; a setting at its default
        has no row, so it is absent)."""
        reply, endpoint = self._user_query({"site_settings": [{"name": None, "value": None}]})
        return site_settings_of(reply, endpoint)

    def set_site_setting(self, name: str, value: str) -> None:
        """Set one site setting (admin keys only)."""
        self._user_query({"site_settings": {"name": name, "value": value}})

    def delete_account(self, account_id: str) -> None:
        """Delete a user's account; raises CoCalcUnsupported where the API cannot."""
        raise CoCalcUnsupported("this API cannot delete accounts", endpoint="delete_account")

    #: Sign-up makes the new account a project of its own ("My First Project") and starts
    #: it (the current API; API v1's ``create_account`` makes none).
    signup_makes_a_project = False

    @contextmanager
    def user_session(self, account_id: str) -> Iterator[UserSession]:
        """Act as the account itself (its own projects); CoCalcUnsupported where the API
        cannot."""
        raise CoCalcUnsupported("this API cannot act as a user", endpoint="user_session")
        yield  # pragma: no cover

    def project_state(self, project_id: str) -> str | None:
        """A project's compute state ("running", "starting", "opened"...), read as a site
        admin (``projects_admin``); None where the key may not read it."""
        try:
            reply, _ = self._user_query(
                {"projects_admin": {"project_id": project_id, "state": None}}
            )
        except CoCalcAPIError:
            return None  # not an admin's key
        row = reply.get("query", {}).get("projects_admin") if isinstance(reply, dict) else None
        state = row.get("state") if isinstance(row, dict) else None
        found = state.get("state") if isinstance(state, dict) else None
        return found if isinstance(found, str) else None

    def delete_project(self, project_id: str) -> None:
        """Delete a project of the key's account; raises CoCalcUnsupported where it cannot."""
        raise CoCalcUnsupported("this API cannot delete projects", endpoint="delete_project")

    def set_account_name(self, account_id: str, first_name: str, last_name: str) -> None:
        """Rename an account (a site admin's key); raises CoCalcUnsupported where impossible."""
        raise CoCalcUnsupported("this API cannot rename other accounts", endpoint="set_name")

    def revoke_token(self, token: str) -> bool:
        """Invalidate a token where the dialect allows it; say whether it did."""
        return False

    @abc.abstractmethod
    def user_search(self, query: str, limit: int = 20) -> list[UserSearchResult]: ...

    @abc.abstractmethod
    def copy_path_between_projects(
        self,
        *,
        src_project_id: str,
        src_path: str,
        target_project_id: str,
        target_path: str | None = None,
        wait_until_done: bool = True,
    ) -> CopyStarted: ...

    @abc.abstractmethod
    def copy_path_status(self, copy_path_id: str) -> CopyStatus: ...

    @abc.abstractmethod
    def write_text_file_to_project(self, project_id: str, path: str, content: str) -> None: ...

    @abc.abstractmethod
    def read_text_file_from_project(self, project_id: str, path: str) -> FileContent: ...

    @abc.abstractmethod
    def project_exec(
        self, project_id: str, command: str, *, args: list[str] | None = None, timeout: int = 10
    ) -> ExecOutput: ...

    @abc.abstractmethod
    def browser_sign_in(self, token: str, project_id: str, path: str) -> BrowserSignIn:
        """Tell how a browser holding ``token`` gets to a kiosk page of ``path``."""

    def kiosk_url(self, project_id: str, path: str, **extra: str) -> str:
        query = urlencode({**extra, "fullscreen": "kiosk", "session": ""})
        return f"{self.base_url}{kiosk_path(project_id, path)}?{query}"

    def find_account_by_email(self, email: str) -> str | None:
        """Return the account_id registered under exactly this e-mail address, if any."""
        wanted = email.strip().lower()
        for result in self.user_search(email, limit=5):
            if (result.email_address or "").strip().lower() == wanted:
                return result.account_id
        return None
