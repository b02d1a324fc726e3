"""``GET /api/openapi.json``: the OpenAPI 3.1 description of the gateway's JSON API.

The suite fuzzes the API against this document with schemathesis (``tests/web/
test_openapi.py``), on SQLite and PostgreSQL: every request gets a documented answer, and
no input gets a 5xx other than the documented CoCalc failures.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from ..provisioning.profile import EMAIL_RE

bp = Blueprint("openapi", __name__)

#: A name: any text but control characters (lone surrogates are refused too: they cannot
#: even be sent as UTF-8, only as JSON escapes).
_TEXT = {
    "type": ["string", "null"],
    "maxLength": 255,
    "pattern": "^[^\u0000-\u001f\u007f-\u009f]*$",
}
#: An id or context. These characters are always accepted; the server accepts more (any
#: text without leading or trailing white space, control, format or other invisible
#: characters: gateway/provisioning/profile.py), which JSON Schema cannot state exactly.
_IDENTIFIER = {
    "type": "string",
    "minLength": 1,
    "maxLength": 255,
    "pattern": r"^[A-Za-z0-9._:@-]([A-Za-z0-9 ._:@-]*[A-Za-z0-9._:@-])?$",
}
ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "field": {"type": "string"},
            },
        }
    },
}
LAUNCH_REQUEST = {
    "type": "object",
    "required": ["user"],
    "properties": {
        "user": {
            "type": "object",
            "required": ["id"],
            "properties": {
                "id": _IDENTIFIER,
                "email": {
                    "type": ["string", "null"],
                    "maxLength": 320,
                    "pattern": EMAIL_RE.pattern,
                },
                "first_name": _TEXT,
                "last_name": _TEXT,
            },
        },
        "path": {
            "type": ["string", "null"],
            "maxLength": 4096,
            "pattern": r"^([A-Za-z0-9 ._-]+(/[A-Za-z0-9 ._-]+)*)?$",
        },
        "context": {**_IDENTIFIER, "type": ["string", "null"]},
        "locale": {
            "type": ["string", "null"],
            "maxLength": 35,
            "description": "The page's language, a BCP 47 tag (de, pt-BR); "
            "a malformed one is ignored",
        },
    },
}
LAUNCH = {
    "type": "object",
    "required": ["url", "expires_at", "account_id", "project_id"],
    "properties": {
        "url": {"type": "string", "description": "One-time launch URL, valid for 60 s"},
        "expires_at": {"type": "string", "format": "date-time"},
        "account_id": {"type": "string", "format": "uuid"},
        "project_id": {"type": "string", "format": "uuid"},
    },
}


def _error(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": ERROR}}}


def document(server_url: str) -> dict:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "CoCalc embedding gateway",
            "version": "1",
            "description": "A host's server asks the gateway for a launch of a user.",
        },
        "servers": [{"url": server_url}],
        "components": {
            "securitySchemes": {
                "hostSecret": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "The host's secret, from `cocalc-gateway hosts add`",
                }
            }
        },
        "paths": {
            "/api/v1/launches": {
                "post": {
                    "summary": "Provision a user and get a one-time launch URL",
                    "security": [{"hostSecret": []}],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": LAUNCH_REQUEST}},
                    },
                    "responses": {
                        "201": {
                            "description": "The user is set up; give `url` to the browser",
                            "content": {"application/json": {"schema": LAUNCH}},
                        },
                        "400": _error("The body breaks a rule (the message says which)"),
                        "401": _error("No host secret, or a wrong one"),
                        "413": _error("The body is larger than 64 KB"),
                        "415": _error("The body is not sent as application/json"),
                        "502": _error("CoCalc failed the request"),
                        "503": _error("CoCalc or the gateway's database cannot be reached"),
                        "504": _error("CoCalc did not answer in time"),
                    },
                }
            }
        },
    }


@bp.get("/api/openapi.json")
def openapi():
    return jsonify(document(current_app.config["GATEWAY_PUBLIC_URL"]))
