"""Pin the simulator to ../shared/cocalc-api.md, so it cannot drift into leniency.

These tests speak raw HTTP (no gateway code) and check the wire details the document gives.
"""

from __future__ import annotations

import re
import uuid

import pytest
import requests

PASSWORD = "Kq7-vX2p!mW9zR4t"


def v1(sim, event, data=None, *, key=None, form=False, bearer=False):
    key = sim.admin_key if key is None else key
    kwargs = {"data": data} if form else {"json": data or {}}
    if bearer:
        kwargs["headers"] = {"Authorization": f"Bearer {key}"}
    else:
        kwargs["auth"] = (key, "")
    return requests.post(f"{sim.url}/api/v1/{event}", timeout=5, **kwargs)


def hub(sim, name, *args, key=None, auth=True):
    kwargs = {"auth": (key or sim.admin_key, "")} if auth else {}
    body = {"name": name, "args": list(args), "timeout": 5000}
    return requests.post(f"{sim.url}/api/conat/hub", json=body, timeout=5, **kwargs)


def rest(sim, path, body, key=None):
    return requests.post(
        f"{sim.url}/api/v2/{path}", json=body, auth=(key or sim.admin_key, ""), timeout=5
    )


def email():
    return f"c-{uuid.uuid4().hex[:10]}@example.edu"


@pytest.fixture
def v1sim(simulators):
    simulators["v1"].reset()
    return simulators["v1"]


@pytest.fixture
def cursim(simulators):
    simulators["current"].reset()
    return simulators["current"]


def v1_sign_up(sim, form=False, **fields):
    """Call create_account with a valid body, changed by ``fields``; return the response."""
    body = {
        "first_name": "A",
        "last_name": "B",
        "email_address": email(),
        "password": PASSWORD,
        "agreed_to_terms": True,
        **fields,
    }
    return v1(sim, "create_account", body, form=form)


def sign_up_body(**fields) -> dict:
    """A valid body for the current API's /auth/sign-up, changed by ``fields``."""
    return {
        "email": email(),
        "password": PASSWORD,
        "firstName": "A",
        "lastName": "B",
        "terms": True,
        **fields,
    }


def v1_account(sim, address=None):
    return v1_sign_up(sim, email_address=address or email()).json()["account_id"]


# -- API v1 ----------------------------------------------------------------------------------------
def test_v1_ping_echoes_id(v1sim):
    reply = v1(v1sim, "ping", {"id": "abc"})
    assert reply.status_code == 200
    body = reply.json()
    assert body["event"] == "pong" and body["id"] == "abc" and body["now"]
    assert uuid.UUID(v1(v1sim, "ping").json()["id"])


def test_v1_basic_and_bearer_and_form(v1sim):
    assert v1(v1sim, "ping", bearer=True).json()["event"] == "pong"
    assert v1(v1sim, "ping", {}, form=True).json()["event"] == "pong"


@pytest.mark.parametrize("key", ["", "sk_wrong"])
def test_v1_missing_or_unknown_key_is_400(v1sim, key):
    reply = v1(v1sim, "ping", key=key)
    assert reply.status_code == 400 and "error" in reply.json()


def test_v1_unknown_endpoint_unknown_field_missing_field_are_400(v1sim):
    assert v1(v1sim, "no_such_event").status_code == 400
    reply = v1(v1sim, "create_project", {"title": "x", "colour": "red"})
    assert reply.status_code == 400 and "colour" in reply.json()["error"]
    reply = v1(v1sim, "user_auth", {"account_id": str(uuid.uuid4())})
    assert reply.status_code == 400 and "password" in reply.json()["error"]
    # copy_path_status is the one event without an "id" field
    assert v1(v1sim, "copy_path_status", {"id": "x", "copy_path_id": "y"}).status_code == 400


def test_v1_form_false_is_truthy(v1sim):
    # Form values arrive as strings: "false" counts as true on the server.
    reply = v1_sign_up(v1sim, form=True, agreed_to_terms="false")
    assert reply.json()["event"] == "account_created"


def test_v1_create_account_failures_are_200(v1sim):
    address = email()
    v1_account(v1sim, address)
    reply = v1_sign_up(v1sim, email_address=address)
    assert reply.status_code == 200
    assert reply.json()["event"] == "account_creation_failed"
    assert reply.json()["reason"] == {"email_address": "This e-mail address is already taken."}
    for bad in ({"password": "12345"}, {"password": "x" * 65}, {"email_address": "nope"}):
        reason = v1_sign_up(v1sim, **bad).json()["reason"]
        assert set(reason) == set(bad)


def test_v1_registration_token_and_rate_limit():
    from tests.conftest import start_simulator

    server, sim = start_simulator("v1")
    try:
        sim.configure(account_rate_limit=2)
        assert v1_account(sim) and v1_account(sim)
        reply = v1_sign_up(sim).json()
        assert reply["event"] == "account_creation_failed" and "other" in reply["reason"]
    finally:
        server.stop()
    server, sim = start_simulator("v1", registration_token="letmein")
    try:
        reply = v1_sign_up(sim).json()
        assert reply["reason"] == {"token": "Incorrect registration token."}
    finally:
        server.stop()


def test_v1_user_auth_rules(v1sim):
    account = v1_account(v1sim)
    ok = v1(v1sim, "user_auth", {"account_id": account, "password": PASSWORD}).json()
    assert ok["event"] == "user_auth_token" and re.fullmatch(r"[A-Za-z0-9]{24}", ok["auth_token"])
    # an empty password works only for an admin key
    admin = v1(v1sim, "user_auth", {"account_id": account, "password": ""}).json()
    assert admin["event"] == "user_auth_token"
    user = v1(v1sim, "user_auth", {"account_id": account, "password": ""}, key=v1sim.user_key)
    assert user.json()["event"] == "error"
    # a wrong password, then the (caller, account) pair is blocked for 60 s
    other = v1_account(v1sim)
    wrong = v1(v1sim, "user_auth", {"account_id": other, "password": "wrong-one"}).json()
    assert wrong == {"event": "error", "id": wrong["id"], "error": "incorrect password"}
    blocked = v1(v1sim, "user_auth", {"account_id": other, "password": PASSWORD}).json()
    assert blocked["event"] == "error"
    v1sim.configure(advance_clock_s=61)
    assert (
        v1(v1sim, "user_auth", {"account_id": other, "password": PASSWORD}).json()["event"]
        == "user_auth_token"
    )


def test_v1_project_calls_check_ownership(v1sim):
    project = v1(v1sim, "create_project", {"title": "mine", "start": True}).json()["project_id"]
    account = v1_account(v1sim)
    reply = v1(
        v1sim,
        "invite_collaborator",
        {"project_id": project, "account_id": account},
        key=v1sim.user_key,
    ).json()
    assert reply["event"] == "error"
    reply = v1(v1sim, "invite_collaborator", {"project_id": project, "account_id": account})
    assert reply.json()["event"] == "success"
    assert v1sim.project(project)["owner"] != account


def test_v1_user_search_reveals_email_only_for_email_queries(v1sim):
    address = email()
    account = v1_account(v1sim, address)
    results = v1(v1sim, "user_search", {"query": address}).json()["results"]
    assert results == [
        {"account_id": account, "first_name": "A", "last_name": "B", "email_address": address}
    ]
    by_name = v1(v1sim, "user_search", {"query": "A B", "limit": 50}).json()["results"]
    assert by_name and all("email_address" not in r for r in by_name)


def test_v1_tokens_expire_after_12_hours(v1sim):
    account = v1_account(v1sim)
    project = v1(v1sim, "create_project", {"title": "p"}).json()["project_id"]
    v1(v1sim, "invite_collaborator", {"project_id": project, "account_id": account})
    token = v1(v1sim, "user_auth", {"account_id": account, "password": PASSWORD}).json()[
        "auth_token"
    ]
    url = f"{v1sim.url}/projects/{project}/files/a.md"
    page = requests.get(
        url,
        params={"auth_token": token, "fullscreen": "kiosk", "session": ""},
        allow_redirects=False,
        timeout=5,
    )
    # app-redirect.ts: to the single-page app, the whole URL in ``target``; the app signs
    # in with the token over its websocket (here: /_sim/v1/sign-in), then reloads itself.
    assert page.status_code == 302
    assert page.headers["Location"].startswith("/static/app.html?target=")
    sign_in = f"{v1sim.url}/_sim/v1/sign-in"
    signed = requests.get(sign_in, params={"auth_token": token}, timeout=5)
    assert signed.status_code == 200 and "remember_me" in signed.cookies
    cookie = signed.headers["Set-Cookie"]
    assert "SameSite=None" in cookie and "Secure" in cookie and "account_id=" not in cookie
    v1sim.configure(advance_clock_s=12 * 3600 + 1)
    assert requests.get(sign_in, params={"auth_token": token}, timeout=5).status_code == 401


def test_v1_kiosk_refuses_non_collaborators(v1sim):
    account = v1_account(v1sim)
    project = v1(v1sim, "create_project", {"title": "p"}).json()["project_id"]
    token = v1(v1sim, "user_auth", {"account_id": account, "password": PASSWORD}).json()[
        "auth_token"
    ]
    session = requests.Session()
    session.get(f"{v1sim.url}/_sim/v1/sign-in", params={"auth_token": token}, timeout=5)
    for cookie in session.cookies:  # Secure, and the simulator is plain http
        cookie.secure = False
    page = session.get(
        f"{v1sim.url}/projects/{project}/files/a.md", params={"fullscreen": "kiosk"}, timeout=5
    )
    assert page.status_code == 403


def test_current_server_has_no_v1(cursim):
    reply = v1(cursim, "ping")
    assert reply.status_code == 404 and reply.headers["Content-Type"].startswith("text/html")


# -- the current API ----------------------------------------------------------------------
def test_hub_ping_and_errors(cursim):
    assert isinstance(hub(cursim, "system.ping").json()["now"], int)
    assert hub(cursim, "system.ping", auth=False).json() == {
        "error": "You must provide authentication via an API key."
    }
    assert hub(cursim, "system.ping", key="sk_bad").json() == {
        "error": "must be signed in and MUST provide an api key (cookies are not allowed)"
    }
    reply = hub(cursim, "system.nope")
    assert reply.status_code == 200
    assert reply.json() == {"error": "Error: unknown function 'system.nope'"}


def test_sign_up_shapes(cursim):
    address = email()
    body = sign_up_body(email=address)
    account = rest(cursim, "auth/sign-up", body).json()["account_id"]
    assert uuid.UUID(account)
    again = rest(cursim, "auth/sign-up", {**body, "password": PASSWORD + "x"})
    assert again.status_code == 200
    assert again.json() == {"issues": {"email": f'Email address "{address}" already in use.'}}
    assert rest(cursim, "auth/sign-up", {**body, "email": email(), "terms": False}).json() == {
        "issues": {"terms": "You must agree to the terms of usage."}
    }
    weak = rest(cursim, "auth/sign-up", {**body, "email": email(), "password": "abcdefgh"})
    assert weak.json()["issues"]["password"].startswith(
        'Password is too weak. Common character sequences like "abc" are easy to guess.'
    )
    short = rest(cursim, "auth/sign-up", {**body, "email": email(), "password": "Ab1!x9z"})
    assert short.json() == {"issues": {"password": "Your password must not be very easy to guess."}}
    # sign-up needs a site admin's key (on self-hosted CoCalc)
    refused = rest(cursim, "auth/sign-up", {**body, "email": email()}, key=cursim.user_key)
    assert refused.json() == {
        "issues": {"api": "Error: Only users in the group 'admin' are allowed to create new users."}
    }


def test_sign_up_makes_and_starts_my_first_project(cursim):
    address = email()
    body = sign_up_body(email=address)
    account = rest(cursim, "auth/sign-up", body).json()["account_id"]
    token = hub(cursim, "system.generateUserAuthToken", {"user_account_id": account}).json()
    session = requests.Session()
    session.get(f"{cursim.url}/auth/impersonate", params={"auth_token": token}, timeout=5)
    assert account in session.get(f"{cursim.url}/app", timeout=5).text


def test_hub_project_and_collaborator_shapes(cursim):
    project = hub(cursim, "projects.createProject", {"title": "t", "start": False}).json()
    assert isinstance(project, str) and uuid.UUID(project)
    assert rest(cursim, "projects/create", {"title": "r"}).json()["project_id"]
    account = rest(cursim, "auth/sign-up", sign_up_body()).json()["account_id"]
    opts = {"opts": {"project_id": project, "account_id": account}}
    assert hub(cursim, "projects.addCollaborator", opts).json() == {"project_id": [project]}
    assert hub(cursim, "projects.addCollaborator", opts).json() == {"project_id": [project]}
    missing = {"opts": {"project_id": str(uuid.uuid4()), "account_id": account}}
    assert hub(cursim, "projects.addCollaborator", missing).json() == {
        "error": "OwnershipError: Project not found"
    }
    assert hub(cursim, "projects.start", {"project_id": project}).json() is None
    assert cursim.project(project)["running"] is True
    found = hub(cursim, "system.userSearch", {"query": "a b"}).json()
    assert all({"account_id", "name"} <= set(r) for r in found)


def test_tokens_impersonate_and_revoke(cursim):
    account = str(uuid.uuid4())  # an admin's call does not check that the account exists
    token = hub(cursim, "system.generateUserAuthToken", {"user_account_id": account}).json()
    assert isinstance(token, str) and len(token) == 24
    page = requests.get(
        f"{cursim.url}/auth/impersonate",
        params={"auth_token": token},
        allow_redirects=False,
        timeout=5,
    )
    assert page.status_code == 200 and "/app" in page.text and "window.location" in page.text
    cookie = page.headers["Set-Cookie"]
    assert "remember_me=" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert hub(cursim, "system.revokeUserAuthToken", token).json() is None
    again = requests.get(f"{cursim.url}/auth/impersonate", params={"auth_token": token}, timeout=5)
    assert again.status_code == 200 and "unknown or expired token" in again.text
    # a non-admin key needs the account's password
    denied = hub(
        cursim, "system.generateUserAuthToken", {"user_account_id": account}, key=cursim.user_key
    ).json()
    assert "error" in denied


def test_current_kiosk_ignores_auth_token(cursim):
    project = hub(cursim, "projects.createProject", {"title": "t"}).json()
    token = hub(cursim, "system.generateUserAuthToken", {"user_account_id": str(uuid.uuid4())})
    page = requests.get(
        f"{cursim.url}/projects/{project}/files/a.md",
        params={"auth_token": token.json(), "fullscreen": "kiosk"},
        timeout=5,
    )
    assert page.status_code == 200 and "not signed in" in page.text
    assert "remember_me" not in page.cookies


def test_site_setting_iframe_comm_hosts(cursim):
    body = {"query": {"site_settings": {"name": "iframe_comm_hosts", "value": "a.example .b.org"}}}
    assert "error" not in rest(cursim, "user-query", body).json()
    assert "error" in rest(cursim, "user-query", body, key=cursim.user_key).json()


# -- section 7: what a real server did, pinned one fact at a time -------------------------------
def test_an_admins_token_call_ignores_the_password(cursim):
    account = rest(cursim, "auth/sign-up", sign_up_body()).json()["account_id"]
    for password in (PASSWORD, "wrong-one", None):
        opts = {"user_account_id": account, **({"password": password} if password else {})}
        token = hub(cursim, "system.generateUserAuthToken", opts).json()
        assert isinstance(token, str) and len(token) == 24


def test_a_non_admins_wrong_password_bans_the_pair_for_30_seconds(cursim):
    account = rest(cursim, "auth/sign-up", sign_up_body()).json()["account_id"]
    opts = {"user_account_id": account, "password": "wrong-one"}
    wrong = hub(cursim, "system.generateUserAuthToken", opts, key=cursim.user_key).json()
    assert wrong == {"error": "Error: incorrect password"}
    right = {"user_account_id": account, "password": PASSWORD}
    banned = hub(cursim, "system.generateUserAuthToken", right, key=cursim.user_key).json()
    assert banned["error"].startswith("Error: banned -- please wait")
    cursim.configure(advance_clock_s=31)
    token = hub(cursim, "system.generateUserAuthToken", right, key=cursim.user_key).json()
    assert isinstance(token, str)


def test_sign_up_with_an_existing_email_and_password_signs_the_caller_in(cursim):
    body = sign_up_body()
    account = rest(cursim, "auth/sign-up", body).json()["account_id"]
    again = rest(cursim, "auth/sign-up", {**body, "email": body["email"].upper()})
    assert again.status_code == 200 and again.json() == {"account_id": account}
    cookies = again.headers.get("Set-Cookie", "")
    assert "account_id=" in cookies and "remember_me=" in cookies and "connect.sid=" in cookies
    assert again.cookies["account_id"] == account


def test_a_sign_in_cookie_beats_the_key_on_rest_but_not_on_the_hub(cursim):
    body = sign_up_body()
    rest(cursim, "auth/sign-up", body)
    session = requests.Session()
    session.auth = (cursim.admin_key, "")
    session.post(f"{cursim.url}/api/v2/auth/sign-up", json=body, timeout=5)  # keeps the cookie
    refused = session.post(f"{cursim.url}/api/v2/auth/sign-up", json=sign_up_body(), timeout=5)
    assert refused.json() == {
        "issues": {"api": "Error: Only users in the group 'admin' are allowed to create new users."}
    }
    project = hub(cursim, "projects.createProject", {"title": "t"}).json()
    copy = session.post(
        f"{cursim.url}/api/v2/projects/copy-path",
        json={"src_project_id": project, "path": "", "target_project_id": project},
        timeout=5,
    )
    assert copy.json() == {"error": "must be a collaborator on target project"}
    hub_call = session.post(
        f"{cursim.url}/api/conat/hub", json={"name": "system.ping", "args": []}, timeout=5
    )
    assert "now" in hub_call.json()  # the hub still takes the admin's key


@pytest.mark.parametrize(
    ("change", "errors"),
    [
        ({"email": None}, [{"code": "invalid_union"}]),
        ({"terms": "yes"}, [{"code": "invalid_union"}]),
        (
            {"email": "not an address"},
            [{"validation": "email", "code": "invalid_string", "message": "Invalid email"}],
        ),
    ],
)
def test_sign_up_validation_errors_are_http_400(cursim, change, errors):
    body = {k: v for k, v in {**sign_up_body(), **change}.items() if v is not None}
    reply = rest(cursim, "auth/sign-up", body)
    assert reply.status_code == 400
    assert reply.json()["message"] == "Invalid request body."
    for got, want in zip(reply.json()["errors"], errors, strict=True):
        assert want.items() <= got.items()


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("abcdefgh", 'Password is too weak. Common character sequences like "abc" are easy'),
        ("Ab1!x9z", "Your password must not be very easy to guess."),
    ],
)
def test_the_real_password_messages(cursim, password, message):
    issues = rest(cursim, "auth/sign-up", sign_up_body(password=password)).json()["issues"]
    assert issues["password"].startswith(message)


def test_add_collaborator_with_an_unknown_account_succeeds(cursim):
    project = hub(cursim, "projects.createProject", {"title": "t"}).json()
    opts = {"opts": {"project_id": project, "account_id": str(uuid.uuid4())}}
    assert hub(cursim, "projects.addCollaborator", opts).json() == {"project_id": [project]}
    assert hub(cursim, "projects.removeCollaborator", opts).json() is None


def test_user_search_rows_have_no_name_and_created_in_milliseconds(cursim):
    body = sign_up_body()
    account = rest(cursim, "auth/sign-up", body).json()["account_id"]
    (row,) = hub(cursim, "system.userSearch", {"query": body["email"]}).json()
    assert row["account_id"] == account and row["name"] is None
    assert isinstance(row["created"], int) and row["created"] > 1_600_000_000_000


def test_copy_path_answers_an_empty_copy_id(cursim):
    source = hub(cursim, "projects.createProject", {"title": "s"}).json()
    target = hub(cursim, "projects.createProject", {"title": "t"}).json()
    rest(cursim, "projects/write-text-file", {"project_id": source, "path": "a", "content": "x"})
    body = {"src_project_id": source, "path": "a", "target_project_id": target}
    assert rest(cursim, "projects/copy-path", body).json() == {"copy_id": ""}


def test_create_project_wants_an_object_and_only_admins_choose_the_id(cursim):
    reply = hub(cursim, "projects.createProject", "just a title").json()
    assert reply["error"].startswith("TypeError: Cannot create property 'account_id' on string")
    chosen = str(uuid.uuid4())
    assert hub(cursim, "projects.createProject", {"project_id": chosen}).json() == chosen
    twice = hub(cursim, "projects.createProject", {"project_id": chosen}).json()
    assert "duplicate key" in twice["error"]
    user = hub(
        cursim, "projects.createProject", {"project_id": str(uuid.uuid4())}, key=cursim.user_key
    )
    assert user.json() == {"error": "Error: only admins can specify the project_id"}


def test_setting_a_site_setting_answers_an_empty_query(cursim):
    body = {"query": {"site_settings": {"name": "iframe_comm_hosts", "value": "a.example"}}}
    assert rest(cursim, "user-query", body).json() == {"query": {}}


def test_kiosk_urls_and_the_app_redirect_to_the_single_page_app(cursim):
    project = hub(cursim, "projects.createProject", {"title": "t"}).json()
    for path, target in (
        (f"/projects/{project}/files/a.md?fullscreen=kiosk&session=", "%2Fprojects%2F"),
        (f"/projects/{project}/files/?fullscreen=kiosk&session=", "%2Fprojects%2F"),
        ("/app", None),
    ):
        reply = requests.get(cursim.url + path, allow_redirects=False, timeout=5)
        assert reply.status_code == 302 and reply.headers["Content-Type"].startswith("text/plain")
        assert reply.text.startswith("Found. Redirecting to /static/app.html")
        if target:
            assert reply.headers["Location"].startswith(f"/static/app.html?target={target}")


def test_impersonate_redirects_on_onload_and_sets_its_cookies(cursim):
    token = hub(cursim, "system.generateUserAuthToken", {"user_account_id": str(uuid.uuid4())})
    page = requests.get(
        f"{cursim.url}/auth/impersonate",
        params={"auth_token": token.json()},
        headers={"X-Forwarded-Proto": "https"},
        timeout=5,
    )
    assert page.text.startswith("<head><script>window.onload = function () {")
    assert "<!doctype" not in page.text.lower()
    cookies = {c.name: c for c in page.cookies}
    assert set(cookies) == {"account_id", "remember_me", "connect.sid"}
    assert cookies["remember_me"].secure and cookies["remember_me"].has_nonstandard_attr("HttpOnly")
    header = page.headers["Set-Cookie"]
    assert "SameSite=Strict" in header and header.count("SameSite") == 1  # account_id has none
    bad = requests.get(f"{cursim.url}/auth/impersonate", params={"auth_token": "nope"}, timeout=5)
    assert bad.status_code == 200 and bad.headers["Content-Type"].startswith("text/html")
    assert "unknown or expired token" in bad.text and "connect.sid" in bad.cookies


def test_an_interrupted_start_stays_starting_until_started_again(cursim):
    cursim.fault("start", "interrupted_start")
    project = hub(cursim, "projects.createProject", {"title": "t", "start": True}).json()
    assert cursim.project(project)["state"] == "starting"
    assert hub(cursim, "projects.start", {"project_id": project}).json() is None
    assert cursim.project(project)["state"] == "running"


def test_current_cocalc_answers_api_v1_with_a_slow_large_404_page(cursim):
    import time

    cursim.configure(v1_ping_delay_ms=600)
    began = time.monotonic()
    reply = v1(cursim, "ping")
    assert time.monotonic() - began >= 0.6
    assert reply.status_code == 404 and len(reply.text) > 9000


@pytest.mark.parametrize("reply", ["empty", "missing"])
def test_v1_copies_answer_an_empty_or_missing_copy_path_id(v1sim, reply):
    v1sim.configure(copy_reply=reply)
    source = v1(v1sim, "create_project", {"title": "s"}).json()["project_id"]
    target = v1(v1sim, "create_project", {"title": "t"}).json()["project_id"]
    v1(v1sim, "write_text_file_to_project", {"project_id": source, "path": "a", "content": "x"})
    body = {"src_project_id": source, "src_path": "a", "target_project_id": target}
    answer = v1(v1sim, "copy_path_between_projects", {**body, "wait_until_done": True}).json()
    if reply == "empty":
        assert answer["event"] == "copy_path_between_projects_response"
        assert answer["copy_path_id"] == ""
    else:
        assert answer["event"] == "success" and "copy_path_id" not in answer
    status = v1(v1sim, "copy_path_status", {"copy_path_id": ""}).json()
    assert status["error"] == 'postgresql error: invalid input syntax for type uuid: ""'


def test_v1_user_auth_from_an_admin_with_a_wrong_password_refuses(v1sim):
    account = v1_account(v1sim)
    wrong = v1(v1sim, "user_auth", {"account_id": account, "password": "wrong-one"}).json()
    assert wrong["error"] == "incorrect password"


def test_v1_query_finds_a_project_by_description(v1sim):
    made = v1(v1sim, "create_project", {"title": "t", "description": "marked-1"}).json()
    query = {"projects": [{"project_id": None, "description": "marked-1"}]}
    found = v1(v1sim, "query", {"query": query}).json()
    assert found["query"]["projects"] == [
        {"project_id": made["project_id"], "description": "marked-1"}
    ]


def _signed_in_as(sim, account: str) -> requests.Session:
    token = hub(sim, "system.generateUserAuthToken", {"user_account_id": account}).json()
    session = requests.Session()
    session.get(f"{sim.url}/auth/impersonate", params={"auth_token": token}, timeout=5)
    return session


def test_deleting_an_account_answers_success_and_leaves_its_projects_running(cursim):
    """Section 7b: ``{"status": "success"}``, the account marked deleted and its e-mail
    cleared; its "My First Project" neither deleted nor stopped."""
    account = rest(cursim, "auth/sign-up", sign_up_body()).json()["account_id"]
    [first] = cursim.account(account)["projects"]
    assert wait_for(lambda: cursim.project(first)["running"])
    user = _signed_in_as(cursim, account)
    deleted = user.post(f"{cursim.url}/api/v2/accounts/delete", json={}, timeout=5)
    assert deleted.status_code == 200 and deleted.json() == {"status": "success"}
    found = cursim.account(account)
    assert found["deleted"] is True and found["email_address"] == ""
    assert cursim.project(first)["running"] is True and cursim.project(first)["deleted"] is False


def wait_for(condition, seconds: float = 5.0) -> bool:
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def test_sign_up_starts_the_first_project_without_waiting_and_a_stop_meanwhile_is_undone(
    cursim,
):
    """Section 7c: "My First Project" is ``starting`` when sign-up answers, ``running``
    once the start completes, and a stop sent while it starts is undone then; a stop once
    it runs holds. An admin reads its state with ``projects_admin``."""
    cursim.configure(first_project_start_ms=400)
    account = rest(cursim, "auth/sign-up", sign_up_body()).json()["account_id"]
    [first] = cursim.account(account)["projects"]

    def state():
        query = {"query": {"projects_admin": {"project_id": first, "state": None}}}
        reply = rest(cursim, "user-query", query).json()
        return reply["query"]["projects_admin"]["state"]["state"]

    assert state() == "starting"
    user = _signed_in_as(cursim, account)
    stopped = user.post(f"{cursim.url}/api/v2/projects/stop", json={"project_id": first})
    assert stopped.json() == {"status": "ok"}
    assert wait_for(lambda: state() == "running")  # the start completed: the stop is undone
    user.post(f"{cursim.url}/api/v2/projects/stop", json={"project_id": first}, timeout=5)
    assert state() == "opened"
    stranger = rest(cursim, "user-query", {"query": {"projects_admin": {"project_id": first}}},
                    key=cursim.user_key)  # fmt: skip
    assert "admin" in stranger.json()["error"]


def test_only_collaborators_stop_projects_and_admins_may_delete_any(cursim):
    """``projects/stop.ts`` and the hub's ``stop`` want a collaborator, admins included;
    ``server/projects/delete.ts`` lets an admin delete any project (stopping it first)."""
    account = rest(cursim, "auth/sign-up", sign_up_body()).json()["account_id"]
    [first] = cursim.account(account)["projects"]
    assert rest(cursim, "projects/stop", {"project_id": first}).json() == {
        "error": "must be a collaborator to stop project"
    }
    assert "collaborator" in hub(cursim, "projects.stop", {"project_id": first}).json()["error"]
    listed = rest(cursim, "projects/get", {"account_id": account}).json()  # admins may list
    assert [p["project_id"] for p in listed] == [first]
    user = _signed_in_as(cursim, account)
    own = user.post(f"{cursim.url}/api/v2/projects/get", json={}, timeout=5).json()
    assert [p["project_id"] for p in own] == [first]
    # Sign-up starts it asynchronously, and a stop while it starts is undone (section 7c):
    # the owner's stop comes once it runs, so that it holds.
    assert wait_for(lambda: cursim.project(first)["state"] == "running")
    stopped = user.post(f"{cursim.url}/api/v2/projects/stop", json={"project_id": first}, timeout=5)
    assert stopped.json() == {"status": "ok"} and cursim.project(first)["running"] is False
    assert rest(cursim, "projects/delete", {"project_id": first}).json() == {"status": "ok"}
    assert cursim.project(first)["deleted"] is True


def test_the_current_front_end_goes_by_its_lax_account_id_cookie(cursim):
    """Section 7c: the front end reads ``account_id`` (no SameSite: Lax), which a frame
    under another site never stores; with ``remember_me`` alone (what such a frame could
    keep, with samesite_remember_me at none) the app shows its sign-in screen."""
    cursim.configure(samesite_remember_me="none")
    account = rest(cursim, "auth/sign-up", sign_up_body()).json()["account_id"]
    user = _signed_in_as(cursim, account)
    for cookie in user.cookies:  # SameSite=None makes remember_me Secure; this is plain http
        cookie.secure = False
    cookies = {c.name: c for c in user.cookies}
    assert "account_id" in cookies and "remember_me" in cookies
    app = f"{cursim.url}/static/app.html"
    assert account in user.get(app, timeout=5).text
    only_remember_me = requests.get(
        app, cookies={"remember_me": cookies["remember_me"].value}, timeout=5
    )
    assert "not signed in" in only_remember_me.text
    # The server's API still takes remember_me alone: it is the front end that needs both.
    listed = requests.post(
        f"{cursim.url}/api/v2/projects/get",
        json={},
        cookies={"remember_me": cookies["remember_me"].value},
        timeout=5,
    )
    assert isinstance(listed.json(), list)
