"""What every current-API endpoint of the simulator shares: callers, errors, serving.

As the real server answers (``../shared/cocalc-api.md`` sections 3, 6 and 7): failures are
HTTP 200 ``{"error"}`` or sign-up ``{"issues"}``, except malformed sign-up bodies (HTTP 400);
on REST endpoints a sign-in cookie beats the API key; the hub takes the key only.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from .plumbing import faulted, proxy_page, request_api_key, sim
from .sessions import signed_in_account
from .state import SimError

bp = Blueprint("sim_api_current", __name__)


def error_reply(text: str):
    """A failure as the current API answers it: HTTP 200 ``{"error": text}``."""
    return jsonify(error=text)


def hub_error(text: str):
    # The hub answers `${err}`: "Error: ..." unless the error has a name of its own.
    named = text.split(":", 1)[0].endswith("Error")
    return error_reply(text if named else f"Error: {text}")


def key_caller():
    key = request_api_key()
    if not key:
        return None, "You must provide authentication via an API key."
    caller = sim().state.caller(key)
    if caller is None:
        return None, "must be signed in and MUST provide an api key (cookies are not allowed)"
    return caller, None


def rest_caller():
    """REST endpoints take a sign-in cookie first, and the API key only without one."""
    account_id = signed_in_account()
    if account_id is not None:
        return sim().state.accounts.get(account_id), None
    return key_caller()


#: What the v1-era build (76c7930f) serves where the current API's hub would be: its web
#: front end's catch-all route throws, and Next.js answers with its 500 page (section 7d).
NEXT_500 = (
    '<!DOCTYPE html><html><head><meta charSet="utf-8"/><title>500: Internal Server Error'
    '</title></head><body><div id="__next"><h1 class="next-error-h1">500</h1><div><h2>'
    "Internal Server Error.</h2></div></div></body></html>"
)


def current_only():
    if sim().config.dialect == "current":
        return None
    if request.path == "/api/conat/hub":
        return Response(NEXT_500, 500, mimetype="text/html")
    return proxy_page(404, "Not Found")


def serve(endpoint: str, run, *, caller_from=rest_caller, error=error_reply):
    """Answer a current-API call: the caller, then the handler's value or its error."""
    wrong = current_only()
    if wrong is not None:
        return wrong
    caller, problem = caller_from()
    if problem is not None:
        sim().state.count(endpoint)
        return error_reply(problem)

    def handle():
        try:
            value = run(caller)
        except SimError as exc:
            return error(str(exc))
        return value if hasattr(value, "status_code") else jsonify(value)

    return faulted(endpoint, handle, error)


def body() -> dict:
    """The request's JSON object ({} for anything else)."""
    found = request.get_json(silent=True)
    return found if isinstance(found, dict) else {}
