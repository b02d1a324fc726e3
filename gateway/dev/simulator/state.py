"""The simulator's memory: accounts, projects, tokens, call counts and injected faults."""

from __future__ import annotations

import re
import secrets
import string
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

EMAIL_RE = re.compile(r"^[^@\s,]+@[^@\s,]+\.[^@\s,]+$")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
TOKEN_ALPHABET = string.ascii_letters + string.digits
FAULT_MODES = (
    "html502",
    "error",
    "timeout",
    "drop",
    "lose_reply",
    "garbage",
    # endpoint "kiosk": the kiosk page answers no postMessage at all
    "silent_kiosk",
    # endpoint "start": the next start of a project is interrupted (the hub died): the project
    # stays "starting", and its kiosk page never answers "open", until it is started again
    "interrupted_start",
)
PROJECT_STATES = ("stopped", "starting", "running")


class SimError(Exception):
    """A failure the simulated endpoint reports the way real CoCalc would."""


@dataclass
class Account:
    account_id: str
    email_address: str
    password: str = field(repr=False)
    first_name: str = ""
    last_name: str = ""
    admin: bool = False
    #: Milliseconds since the epoch, as the current API's user search reports it.
    created: int = 0
    #: Deleted with /api/v2/accounts/delete: CoCalc marks the row and clears the e-mail.
    deleted: bool = False


@dataclass
class Project:
    project_id: str
    owner: str
    title: str = ""
    description: str = ""
    collaborators: set[str] = field(default_factory=set)
    files: dict[str, str] = field(default_factory=dict)
    #: Paths without write permission (``chmod a-w``): writing them fails, as on a disk.
    read_only: set[str] = field(default_factory=set)
    state: str = "stopped"
    deleted: bool = False

    @property
    def running(self) -> bool:
        return self.state == "running"

    def has_access(self, account_id: str) -> bool:
        return account_id == self.owner or account_id in self.collaborators


@dataclass
class Fault:
    mode: str
    remaining: int


class State:
    """All simulator data behind one lock; handlers call its methods, never touch dicts."""

    def __init__(self, *, admin_key: str, user_key: str, token_hours: int):
        self.lock = threading.RLock()
        self.clock_offset = 0.0
        self.token_lifetime = timedelta(hours=token_hours)
        self.accounts: dict[str, Account] = {}
        self.keys: dict[str, str] = {}
        self.projects: dict[str, Project] = {}
        self.tokens: dict[str, tuple[str, datetime]] = {}
        self.sessions: dict[str, str] = {}
        #: (caller, account) -> until when a wrong password blocks the pair (epoch seconds)
        self.blocked: dict[tuple[str, str], float] = {}
        self.copies: dict[str, dict] = {}
        self.creations: list[float] = []
        self.calls: Counter[str] = Counter()
        self.faults: dict[str, Fault] = {}
        self.add_account("admin@simulator.invalid", admin=True, key=admin_key)
        self.add_account("user@simulator.invalid", admin=False, key=user_key)

    # -- time ---------------------------------------------------------------------------------
    def now(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self.clock_offset)

    def advance(self, seconds: float) -> None:
        with self.lock:
            self.clock_offset += seconds

    # -- accounts and keys --------------------------------------------------------------------
    def add_account(self, email, *, admin=False, key=None, password=None, first="", last=""):
        with self.lock:
            account = Account(
                account_id=str(uuid.uuid4()),
                email_address=email,
                password=password or secrets.token_urlsafe(16),
                first_name=first,
                last_name=last,
                admin=admin,
                created=int(self.now().timestamp() * 1000),
            )
            self.accounts[account.account_id] = account
            if key:
                self.keys[key] = account.account_id
            return account.account_id

    def caller(self, key: str | None) -> Account | None:
        with self.lock:
            account_id = self.keys.get(key or "")
            return self.accounts.get(account_id) if account_id else None

    def by_email(self, email: str) -> Account | None:
        wanted = email.strip().lower()
        with self.lock:
            for account in self.accounts.values():
                if account.email_address.lower() == wanted:
                    return account
        return None

    def check_creation_rate(self, limit: int | None, window_s: float = 1800) -> bool:
        """Count one account creation; say False when the per-IP rate limit is exceeded."""
        with self.lock:
            if limit is None:
                return True
            now = time.monotonic()
            self.creations = [t for t in self.creations if now - t < window_s]
            if len(self.creations) >= limit:
                return False
            self.creations.append(now)
            return True

    # -- projects ------------------------------------------------------------------------------
    def add_project(
        self, owner: str, title="", description="", start=False, project_id=None
    ) -> Project:
        with self.lock:
            project_id = project_id or str(uuid.uuid4())
            if project_id in self.projects:
                raise SimError('duplicate key value violates unique constraint "projects_pkey"')
            project = Project(project_id, owner, title, description)
            self.projects[project.project_id] = project
        if start:
            self.start_project(project)
        return project

    def start_project(self, project: Project) -> None:
        """Start a project, unless an armed "interrupted_start" fault leaves it starting."""
        interrupted = self.take_fault("start") == "interrupted_start"
        with self.lock:
            project.state = "starting" if interrupted else "running"

    def start_later(self, project: Project, seconds: float) -> None:
        """Start a project the way sign-up does: ``starting`` now, ``running`` once the start
        completes, whatever was asked of it meanwhile (a stop while it starts is undone)."""
        with self.lock:
            project.state = "starting"

        def started() -> None:
            with self.lock:
                if not project.deleted:
                    project.state = "running"

        timer = threading.Timer(seconds, started)
        timer.daemon = True
        timer.start()

    def project_for(self, caller: Account, project_id: str) -> Project:
        """Return a project the caller owns or collaborates on, else raise like CoCalc."""
        with self.lock:
            project = self.projects.get(str(project_id))
            if project is None or not project.has_access(caller.account_id):
                raise SimError("user must be a collaborator on the project")
            return project

    # -- tokens and browser sessions -----------------------------------------------------------
    def issue_token(self, account_id: str) -> str:
        token = "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(24))
        with self.lock:
            self.tokens[token] = (account_id, self.now() + self.token_lifetime)
        return token

    def token_account(self, token: str | None) -> str | None:
        with self.lock:
            entry = self.tokens.get(token or "")
            if entry is None or entry[1] <= self.now():
                return None
            return entry[0]

    def revoke_token(self, token: str) -> None:
        with self.lock:
            self.tokens.pop(token, None)

    def new_session(self, account_id: str) -> str:
        session = secrets.token_urlsafe(24)
        with self.lock:
            self.sessions[session] = account_id
        return session

    def session_account(self, session: str | None) -> str | None:
        with self.lock:
            return self.sessions.get(session or "")

    # -- test knobs ----------------------------------------------------------------------------
    def count(self, endpoint: str) -> None:
        with self.lock:
            self.calls[endpoint] += 1

    def set_fault(self, endpoint: str, mode: str, count: int) -> None:
        if mode not in FAULT_MODES:
            raise ValueError(f"unknown fault mode {mode!r}; choose from {', '.join(FAULT_MODES)}")
        with self.lock:
            if count <= 0:
                self.faults.pop(endpoint, None)
            else:
                self.faults[endpoint] = Fault(mode, count)

    def take_fault(self, endpoint: str) -> str | None:
        """Consume one injected fault for this endpoint, if any is armed."""
        with self.lock:
            fault = self.faults.get(endpoint)
            if fault is None:
                return None
            fault.remaining -= 1
            if fault.remaining <= 0:
                del self.faults[endpoint]
            return fault.mode

    def peek_fault(self, endpoint: str) -> str | None:
        with self.lock:
            fault = self.faults.get(endpoint)
            return fault.mode if fault else None
