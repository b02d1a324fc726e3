"""How an application gets an API key by signing in, in each era.

Current CoCalc (``next/pages/api/v2/auth/sign-in.ts``, ``api-keys.ts``): ``/api/v2/auth/sign-in``
with e-mail and password sets the sign-in cookies and answers ``{"account_id"}`` (a wrong
password answers ``{"error": "Problem signing into account -- password for '…' is
incorrect."}``); then ``/api/v2/api-keys`` with ``{"action": "create"}`` and that cookie
answers ``{"response": [{"id", "name", "trunc", "secret", …}]}``.

API v1 era (the seed document ``api-intro-a.txt``): ``/app?get_api_key=myapp`` shows a sign-in
page with the banner "CoCalc API Key Access for Myapp"; a successful sign-in answers with a
redirect to ``https://authenticated/?api_key=sk_…``, which the client intercepts.
"""

from __future__ import annotations

import secrets

from flask import jsonify, redirect, render_template_string, request

from .current import body, bp, current_only, error_reply
from .pages import bp as pages_bp
from .plumbing import sim
from .sessions import sign_in_cookies, signed_in_account

GET_API_KEY_PAGE = """<!doctype html><html><head><title>Sign in</title></head><body>
<h1>CoCalc API Key Access for {{ app|capitalize }}</h1>
<form method="post" action="/app/get-api-key?get_api_key={{ app }}">
<input name="email" type="email"><input name="password" type="password">
<button type="submit">Sign in</button></form>
{% if problem %}<p class="error">{{ problem }}</p>{% endif %}</body></html>"""


def _account(email, password):
    """The account whose e-mail and password these are; else (None, CoCalc's message)."""
    email = str(email or "").strip().lower()
    account = sim().state.by_email(email) if email else None
    if account is None:
        return None, f"no account with email address '{email}'"
    if account.password != password:
        return None, f"password for '{email}' is incorrect"
    return account, None


def new_key(account_id: str) -> str:
    key = "sk-" + secrets.token_urlsafe(18)
    with sim().state.lock:
        sim().state.keys[key] = account_id
    return key


@bp.post("/api/v2/auth/sign-in")
def rest_sign_in():
    wrong = current_only()
    if wrong is not None:
        return wrong
    b = body()
    sim().state.count("v2/auth/sign-in")
    account, problem = _account(b.get("email"), str(b.get("password") or ""))
    if account is None:
        return error_reply(f"Problem signing into account -- {problem}.")
    return sign_in_cookies(jsonify(account_id=account.account_id), account.account_id)


@bp.post("/api/v2/api-keys")
def rest_api_keys():
    wrong = current_only()
    if wrong is not None:
        return wrong
    sim().state.count("v2/api-keys")
    account_id = signed_in_account()  # this endpoint takes the sign-in cookie only
    if account_id is None:
        return error_reply("must be signed in")
    b = body()
    if b.get("action") != "create":
        return error_reply(f"unknown action {b.get('action')!r}")
    secret = new_key(account_id)
    trunc = secret[:3] + "..." + secret[-6:]
    return {
        "response": [
            {
                "id": len(sim().state.keys),
                "name": b.get("name") or "",
                "trunc": trunc,
                "secret": secret,
                "account_id": account_id,
            }
        ]
    }


def get_api_key_page():
    """``/app?get_api_key=…`` in the v1 era: the sign-in page with the API key banner."""
    return render_template_string(GET_API_KEY_PAGE, app=request.args["get_api_key"], problem=None)


@pages_bp.post("/app/get-api-key")
def get_api_key_sign_in():
    if sim().config.dialect != "v1":
        return "Not Found", 404
    app = request.args.get("get_api_key", "")
    account, problem = _account(request.form.get("email"), request.form.get("password", ""))
    if account is None:
        return render_template_string(GET_API_KEY_PAGE, app=app, problem=problem), 200
    return redirect(f"https://authenticated/?api_key={new_key(account.account_id)}", 302)
