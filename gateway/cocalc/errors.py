"""Every way a CoCalc call can fail, as one small exception tree.

    CoCalcError
     +-- CoCalcUnavailable        CoCalc could not be reached or answered like a broken proxy
     |    +-- CoCalcTimeout       no answer within the client's timeout
     +-- CoCalcProtocolError      an answer that is not the JSON the API promises
     +-- CoCalcRequestRejected    HTTP 4xx: bad key, unknown endpoint, missing or unexpected field
     +-- CoCalcUnsupported        the dialect in use has no such operation
     +-- CoCalcAPIError           a well-formed failure reply (HTTP 200 with an error body)
          +-- AccountCreationFailed   sign-up refused, with the reason per field

Catch the specific class first: a CoCalcTimeout is also a CoCalcUnavailable. No exception ever
holds the API key, a password or a token: messages are built from the endpoint name and the
server's own error text only.
"""

from __future__ import annotations


class CoCalcError(Exception):
    """Base class: a CoCalc call did not give the result the caller asked for."""

    #: True when repeating the same call later may succeed (CoCalc down, overloaded, slow).
    retryable = False
    #: True when the request provably never reached CoCalc (so even a create may be repeated).
    never_sent = False

    def __init__(self, message: str, *, endpoint: str = "", status: int | None = None):
        super().__init__(message)
        self.message = message
        self.endpoint = endpoint
        self.status = status

    def __str__(self) -> str:
        return f"{self.endpoint}: {self.message}" if self.endpoint else self.message


class CoCalcUnavailable(CoCalcError):
    """Raised when the connection fails or a proxy answers 5xx or an HTML page."""

    retryable = True


class CoCalcTimeout(CoCalcUnavailable):
    """Raised when CoCalc does not answer within the client's timeout."""


class CoCalcProtocolError(CoCalcError):
    """Raised when a reply is not valid JSON or lacks the fields its event promises."""


class CoCalcRequestRejected(CoCalcError):
    """Raised on HTTP 400: the key is missing or unknown, or the request has a bad field."""


class CoCalcAPIError(CoCalcError):
    """Raised when CoCalc answers with an error body (v1 ``event: error``, current ``error``)."""


class AccountCreationFailed(CoCalcAPIError):
    """Raised when CoCalc refuses to create an account; ``reason`` maps field -> message."""

    def __init__(self, reason: dict[str, str], *, endpoint: str = "create_account"):
        self.reason = {str(k): str(v) for k, v in (reason or {}).items()}
        text = "; ".join(f"{k}: {v}" for k, v in self.reason.items()) or "account creation failed"
        super().__init__(text, endpoint=endpoint)

    @property
    def fields(self) -> list[str]:
        """Name the fields that CoCalc refused (``email_address``, ``password``, ``token``...)."""
        return list(self.reason)

    @property
    def email_taken(self) -> bool:
        """Tell whether the refusal says the e-mail address already has an account."""
        for field, text in self.reason.items():
            lowered = text.lower()
            if field in ("email_address", "email") and ("taken" in lowered or "in use" in lowered):
                return True
        return False


class CoCalcUnsupported(CoCalcError):
    """Raised for an operation that the configured CoCalc dialect does not offer."""
