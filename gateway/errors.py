"""The gateway's own errors: one small tree, documented in one place, with no Flask in it.

    GatewayError                  status, code and a message safe to show to anyone
     +-- BadRequest (400)         input that can never work (bad path, bad JSON, bad claims)
     +-- Unauthorized (401)       a launch token or host secret that does not check out
     +-- Forbidden (403)          a request that is understood but not allowed here
     +-- NotFound (404)
     +-- Conflict (409)           the request clashes with state it cannot change
     +-- Gone (410)               a launch link used before, or expired
     +-- TooManyRequests (429)    a client (or host) over its limit; says when to retry
     +-- BadGateway (502)         a service of the host's (an LMS) did not answer as it should
     +-- ServiceBusy (503)        another request holds the user's set-up lock for too long

CoCalc's errors live in ``gateway.cocalc.errors``; storage raises SQLAlchemy's. The web layer
(``gateway.web.errors``) is the one place that turns any of them into a response.
"""

from __future__ import annotations

from dataclasses import dataclass, field


def N_(message: str) -> str:
    """Mark a message for the catalogues without translating it here (no Flask in this
    module): the web layer translates it when it shows it."""
    return message


@dataclass(frozen=True)
class Phrase:
    """A translatable message used as another's parameter (the reason inside "the answer
    was refused (%(reason)s)"): the page shows it in its language with the sentence around
    it; ``str()`` gives it in English (the logs, the JSON error)."""

    id: str
    params: dict = field(default_factory=dict)

    def __str__(self) -> str:
        return self.id % self.params if self.params else self.id


class GatewayError(Exception):
    """Base class: a request the gateway answers with ``status`` and a public ``message``."""

    @property
    def message(self) -> str:
        """The message in English, its parameters filled in (the JSON error, the logs)."""
        return self.message_id % self.params if self.params else self.message_id

    status = 400
    code = "bad_request"
    title = N_("Something is wrong with this request")

    def __init__(self, message: str, *, field: str | None = None, host_origins=None, **params):
        """``message``: a message id (``N_``) with ``%(name)s`` placeholders for ``params``;
        the web layer shows it translated, with the parameters filled in afterwards."""
        super().__init__(message % params if params else message)
        self.message_id = message
        self.params = params
        self.field = field
        #: The origins of the host this request belongs to, when known: the error page may
        #: then be framed by them (and tell them what went wrong).
        self.host_origins = host_origins
        #: Where the error page's "way back" link goes (e.g. to sign in again), if anywhere,
        #: and what the link says.
        self.back_url = None
        self.back_label = N_("Sign in again")


class BadRequest(GatewayError):
    """Raised for input that is malformed or breaks a rule; retrying it cannot help."""


class Unauthorized(GatewayError):
    """Raised when a launch token's signature or a host's secret does not check out."""

    status, code, title = 401, "unauthorized", N_("This launch could not be verified")


class Forbidden(GatewayError):
    """Raised for a request that is understood but not allowed from where it came."""

    status, code, title = 403, "forbidden", N_("Not allowed")


class NotFound(GatewayError):
    """Raised when a host, user or page the request names does not exist."""

    status, code, title = 404, "not_found", N_("Not found")


class Conflict(GatewayError):
    """Raised when the request clashes with state outside the gateway's control."""

    status, code, title = 409, "conflict", N_("This user cannot be set up")


class Gone(GatewayError):
    """Raised for a launch link or page that was used up or has expired."""

    status, code, title = 410, "expired", N_("This launch has expired")


class TooManyRequests(GatewayError):
    """Raised when a client or a host is over a rate limit; ``retry_after`` in seconds."""

    status, code, title = 429, "too_many_requests", N_("Too many requests")

    def __init__(self, message: str, *, retry_after: int, host_origins=None, **params):
        super().__init__(message, host_origins=host_origins, **params)
        self.retry_after = retry_after


class BadGateway(GatewayError):
    """Raised when a host's service (an LMS's key set, token or grade endpoint) fails."""

    status, code, title = 502, "upstream_error", N_("The learning platform did not answer")


class ServiceBusy(GatewayError):
    """Raised when a lock or a pool is not free in time; trying again later may work."""

    status, code, title = 503, "busy", N_("The gateway is busy")
