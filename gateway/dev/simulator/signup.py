"""``/api/v2/auth/sign-up``, with the real server's rules in the real order.

Sign-up with the e-mail and password of an existing account signs the caller in (cookies);
malformed bodies are HTTP 400 with the request schema's errors; policy failures are HTTP
200 ``{"issues"}``; on self-hosted CoCalc only a site admin's key may create accounts, and
every new account gets "My First Project", started.
"""

from __future__ import annotations

import time

from flask import jsonify, make_response, request

from . import passwords
from .current import bp, current_only, rest_caller, serve
from .plumbing import sim
from .sessions import sign_in_cookies
from .state import EMAIL_RE

ADMIN_ONLY_SIGN_UP = "Only users in the group 'admin' are allowed to create new users."


# -- sign-up ---------------------------------------------------------------------------------
def _invalid_body(errors: list[dict]):
    return jsonify(message="Invalid request body.", errors=errors), 400


def _sign_up_shapeerror(body):
    """The request schema's verdict (zod): None, or the HTTP 400 the real server answers."""
    fields = ("email", "password", "firstName", "lastName")
    regular = (
        isinstance(body, dict)
        and all(isinstance(body.get(f), str) for f in fields)
        and isinstance(body.get("terms"), bool)
        and body.get("anonymous") in (None, False)
    )
    anonymous = isinstance(body, dict) and body.get("anonymous") is True
    if not regular and not anonymous:
        return _invalid_body(
            [{"code": "invalid_union", "unionErrors": [], "path": [], "message": "Invalid input"}]
        )
    if regular and not EMAIL_RE.match(body["email"]):
        return _invalid_body(
            [
                {
                    "validation": "email",
                    "code": "invalid_string",
                    "message": "Invalid email",
                    "path": ["email"],
                }
            ]
        )
    return None


def obvious_issues(email: str, password: str, terms: bool) -> dict:
    issues = {}
    if not terms:
        issues["terms"] = "You must agree to the terms of usage."
    if not EMAIL_RE.match(email or ""):
        issues["email"] = f"You must provide a valid email address -- '{email}' is not valid."
    weakness = passwords.problem(password)
    if weakness:
        issues["password"] = weakness
    return issues


def create_account(email, password, first, last) -> str:
    """Create an account with its "My First Project", which sign-up starts without waiting
    for the start (``account-creation-actions.ts``: "do NOT block on this")."""
    state = sim().state
    account_id = state.add_account(email, password=password, first=first, last=last)
    project = state.add_project(account_id, title="My First Project")
    state.start_later(project, sim().config.first_project_start_ms / 1000)
    return account_id


def sign_up(caller, body) -> tuple[dict, str | None]:
    """Run /auth/sign-up's rules in the real order; return the reply and whom to sign in."""
    state, config = sim().state, sim().config
    password = (body.get("password") or "").strip()
    email = (body.get("email") or "").lower().strip()
    first = (body.get("firstName") or "Anonymous").strip()
    last = (body.get("lastName") or f"User-{int(time.time())}").strip()
    if body.get("anonymous") is True:
        return {
            "issues": {"api": "Creation of anonymous accounts via the API is not allowed."}
        }, None
    existing = state.by_email(email)
    if existing is not None and password and existing.password == password:
        return {"account_id": existing.account_id}, existing.account_id  # signs the caller in
    issues = obvious_issues(email, password, bool(body.get("terms")))
    if issues:
        return {"issues": issues}, None
    if caller is None:
        return {"issues": {"reCaptcha": "reCaptcha token missing"}}, None
    if not caller.admin:
        return {"issues": {"api": f"Error: {ADMIN_ONLY_SIGN_UP}"}}, None
    if existing is not None:
        return {"issues": {"email": f'Email address "{email}" already in use.'}}, None
    token = config.registration_token
    if token and body.get("registrationToken") != token:
        issue = "Issue with registration token -- Invalid registration token."
        return {"issues": {"registrationToken": issue}}, None
    if not state.check_creation_rate(config.account_rate_limit):
        return {"error": "too many accounts created from this address; try again later"}, None
    return {"account_id": create_account(email, password, first, last)}, None


@bp.post("/api/v2/auth/sign-up")
def rest_sign_up():
    wrong = current_only()
    if wrong is not None:
        return wrong
    body = request.get_json(silent=True)
    shape = _sign_up_shapeerror(body)
    if shape is not None:
        sim().state.count("v2/auth/sign-up")
        return shape

    def run(_caller):
        caller, _problem = rest_caller()
        reply, sign_in = sign_up(caller, body)
        response = make_response(jsonify(reply))
        if sign_in:
            sign_in_cookies(response, sign_in, max_age=183 * 24 * 3600)
        return response

    return serve("v2/auth/sign-up", run, caller_from=lambda: (None, None))
