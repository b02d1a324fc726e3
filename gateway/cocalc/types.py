"""Typed results of CoCalc calls: what callers get instead of raw JSON dictionaries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Pong:
    """Answer to a ping: the server's time as it reported it."""

    now: str


@dataclass(frozen=True)
class Account:
    account_id: str


@dataclass(frozen=True)
class Project:
    project_id: str


@dataclass(frozen=True)
class AuthToken:
    """A token that signs a browser in as one account until ``expires_at`` (UTC)."""

    token: str = field(repr=False)
    expires_at: datetime


@dataclass(frozen=True)
class UserSearchResult:
    account_id: str
    first_name: str = ""
    last_name: str = ""
    email_address: str | None = None


@dataclass(frozen=True)
class CopyStarted:
    """A copy either finished already (``copy_path_id`` None) or runs in the background."""

    copy_path_id: str | None = None


@dataclass(frozen=True)
class CopyStatus:
    copy_path_id: str
    started: str | None = None
    finished: str | None = None
    error: str | None = None

    @property
    def done(self) -> bool:
        return bool(self.finished) or bool(self.error)


@dataclass(frozen=True)
class FileContent:
    content: str


@dataclass(frozen=True)
class ExecOutput:
    stdout: str
    stderr: str
    exit_code: int


@dataclass(frozen=True)
class BrowserSignIn:
    """How a browser gets signed in and shown a file in kiosk mode.

    ``sign_in_url`` is requested first (its response sets CoCalc's cookie) when the dialect
    needs it; the kiosk URL is loaded afterwards. Both may contain the auth token, so
    neither goes into logs.
    """

    kiosk_url: str = field(repr=False)
    sign_in_url: str | None = field(default=None, repr=False)
