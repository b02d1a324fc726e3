"""API v1 as the real server answered it: ``POST /api/v1/<event>``, strict about fields."""

from __future__ import annotations

import uuid

from flask import Blueprint, jsonify, request

from .plumbing import current_has_no_v1, faulted, request_api_key, sim
from .state import SimError

bp = Blueprint("sim_api_v1", __name__)

#: event -> (required fields, optional fields). ``id`` is allowed everywhere but copy_path_status.
FIELDS: dict[str, tuple[set[str], set[str]]] = {
    "ping": (set(), set()),
    "create_account": (
        set(),
        {
            "first_name",
            "last_name",
            "email_address",
            "password",
            "agreed_to_terms",
            "token",
            "utm",
            "referrer",
            "get_api_key",
            "usage_intent",
        },
    ),
    "create_project": (set(), {"title", "description", "image", "license", "start", "noPool"}),
    "user_auth": ({"account_id", "password"}, set()),
    "invite_collaborator": (
        {"project_id", "account_id"},
        {"title", "link2proj", "replyto", "replyto_name", "email", "subject"},
    ),
    "remove_collaborator": ({"project_id", "account_id"}, set()),
    "user_search": ({"query"}, {"limit", "admin", "active", "only_email"}),
    "copy_path_between_projects": (
        {"src_project_id", "src_path", "target_project_id"},
        {
            "target_path",
            "overwrite_newer",
            "delete_missing",
            "backup",
            "timeout",
            "wait_until_done",
            "scheduled",
            "exclude",
        },
    ),
    "copy_path_status": (set(), {"copy_path_id"}),
    "write_text_file_to_project": ({"project_id", "path", "content"}, set()),
    "read_text_file_from_project": ({"project_id", "path"}, set()),
    "project_exec": (
        {"project_id", "command"},
        {"path", "args", "timeout", "max_output", "bash", "err_on_exit", "aggregate"},
    ),
    "query": ({"query"}, {"changes", "multi_response", "options"}),
}
#: Messages the v1-era hub knows but does not serve over HTTP: ``hub/api/handler.coffee``
#: takes only those marked ``API(...)`` in ``util/message.js`` (section 7d).
NOT_IN_HTTP_API = frozenset({"delete_account"})


HANDLERS = {}


def handles(event):
    def register(fn):
        HANDLERS[event] = fn
        return fn

    return register


def truthy(value) -> bool:
    # The real server treated any non-empty form string as true, "false" included.
    return bool(value)


def bad_request(text: str):
    return jsonify(error=text), 400


@bp.post("/api/v1/<event>")
def call(event):
    if sim().config.dialect != "v1":
        return current_has_no_v1()
    if event in NOT_IN_HTTP_API:
        return bad_request(f"endpoint '{event}' is not part of the HTTP API")
    if event not in FIELDS:
        return bad_request(f"unknown endpoint '{event}'")
    caller = sim().state.caller(request_api_key())
    if caller is None:
        return bad_request("No API key or invalid API key")
    body = request.get_json(silent=True) if request.is_json else request.form.to_dict()
    if not isinstance(body, dict):
        return bad_request("request body must be a JSON object or form fields")
    required, optional = FIELDS[event]
    allowed = required | optional | ({"id"} if event != "copy_path_status" else set())
    unexpected = sorted(set(body) - allowed)
    if unexpected:
        return bad_request(f"unexpected field '{unexpected[0]}' for '{event}'")
    # "Required" means present: an empty string is a value (an admin's empty password).
    missing = sorted(f for f in required if body.get(f) is None)
    if missing:
        return bad_request(f"missing required field '{missing[0]}' for '{event}'")
    mesg_id = body.pop("id", None) or str(uuid.uuid4())

    def error(text):
        return jsonify(event="error", id=mesg_id, error=text)

    def handle():
        try:
            reply_event, fields = HANDLERS[event](caller, body)
        except SimError as exc:
            return error(str(exc))
        return jsonify(event=reply_event, id=mesg_id, **fields)

    return faulted(event, handle, error)
