"""Logging: one JSON object per line in production, readable lines in development.

Every record passes a redaction filter, and every request gets an id that travels with the
CoCalc calls it causes (``X-Request-Id``), across the threads that provisioning starts.
"""

from __future__ import annotations

import contextvars
import functools
import json
import logging
import re
import sys
import time

from gunicorn.glogging import Logger as _GunicornLogger

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

_SECRET_PATTERNS = [
    # query or form style: token=..., auth_token=..., secret=..., password=..., api_key=...,
    # and an OAuth callback's code= and state=; also URL-encoded inside another URL
    # (a redirect's ?target=...auth_token%3D...).
    (
        re.compile(
            r"((?:auth_)?token|secret|password|api_key|key|code|state)(=|%3D|%253D)"
            r"((?:(?!%26|%2526)[^&\s\"'])+)",
            re.I,
        ),
        r"\1\2[redacted]",
    ),
    (re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+", re.I), r"\1 [redacted]"),
    (re.compile(r"\bsk_[A-Za-z0-9_]{6,}"), "sk_[redacted]"),
    # launch and embed URLs carry one-time keys in their paths
    (re.compile(r"/(launch|embed|sso/notebook)/[A-Za-z0-9_-]{16,}"), r"/\1/[redacted]"),
    # JWTs (header.payload.signature)
    (re.compile(r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), "[redacted-jwt]"),
]
#: What an incoming ``X-Request-Id`` may look like to be taken over (``web.request_ids``).
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def redact(text: str) -> str:
    """Remove anything that looks like a credential from a log message."""
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg, record.args = redact(message), None
        if record.exc_info:
            # Render the traceback now, redacted, so no secret reaches the output through it.
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        record.request_id = request_id_var.get()
        return True


class JSONFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


def make_handler(log_format: str = "text", stream=None) -> logging.Handler:
    """A handler that redacts secrets and writes JSON lines or readable text."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(
        JSONFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)
    )
    return handler


def configure(log_format: str = "text", stream=None) -> logging.Handler:
    """Install one redacting handler on the root logger (replacing ours from before)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_gateway", False):
            root.removeHandler(handler)
    handler = make_handler(log_format, stream)
    handler._gateway = True
    root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
    # pysaml2 logs every SAML message whole at DEBUG and INFO (decrypted assertions, with
    # the user's attributes): only its warnings and errors go to the gateway's log.
    logging.getLogger("saml2").setLevel(logging.WARNING)
    return handler


def request_id_headers() -> dict[str, str]:
    """Headers for outgoing CoCalc calls: the id of the request that caused them."""
    request_id = request_id_var.get()
    return {"X-Request-Id": request_id} if request_id != "-" else {}


class GunicornLogger(_GunicornLogger):
    """Gunicorn's logger; every access-log field that the format writes passes ``redact``."""

    _FIELD = re.compile(r"%\(([^)]+)\)")

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        # Only the fields the format names: redacting all of them (every request and
        # response header) cost more than the rest of a simple request.
        for name in self._logged_fields(self.cfg.access_log_format):
            value = atoms.get(name)
            if isinstance(value, str):
                atoms[name] = redact(value)
        return atoms

    @classmethod
    @functools.cache
    def _logged_fields(cls, log_format: str) -> tuple[str, ...]:
        # Gunicorn looks header fields ("{name}i") up in lower case.
        return tuple(
            name.lower() if name.startswith("{") else name
            for name in cls._FIELD.findall(log_format)
        )
