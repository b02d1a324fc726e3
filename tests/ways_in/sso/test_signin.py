"""OpenID Connect sign-in against npm oidc-provider: callback checks, warm sign-in, errors,
sign-out; the browser half is in tests/browser/test_sso.py."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qsl, urlsplit

from sqlalchemy import select

from gateway.store.models import HostUser
from gateway.store.sso_tables import SsoSession
from gateway.ways_in.identity import external_id
from gateway.ways_in.sso import sessions
from tests.ways_in.lti.conftest import Agent


def sign_in(sso, agent, path="notes.md"):
    return agent.open(sso.login_url(path))


def test_sign_in_provisions_the_user_from_userinfo(fresh):
    agent = Agent()
    page = sign_in(fresh, agent)
    assert page.status_code == 200, page.text
    assert "/sso/notebook/" in page.url
    assert 'id="sign-out"' in page.text and "Alice Liddell" in page.text
    with fresh.gw.db.read() as session:
        user = session.scalar(
            select(HostUser).where(
                HostUser.external_id == external_id("oidc", fresh.op.issuer, "alice")
            )
        )
    # The id_token carried only sub: names and e-mail came from the userinfo endpoint.
    assert (user.first_name, user.last_name, user.email) == (
        "Alice",
        "Liddell",
        "alice@example.edu",
    )
    assert user.account_id


def test_the_authorization_request_uses_pkce_state_and_nonce(fresh):
    agent = Agent()
    start = agent.http.get(fresh.login_url("a.md"), allow_redirects=False)
    assert start.status_code == 302
    query = dict(parse_qsl(urlsplit(start.headers["Location"]).query))
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert query["state"] and query["nonce"] and query["response_type"] == "code"
    assert query["redirect_uri"] == fresh.url + "/sso/callback"
    cookie = start.headers["Set-Cookie"]
    assert cookie.startswith("__Host-sso_state_") and "Domain" not in cookie
    for attribute in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/;"):
        assert attribute in cookie + ";"
    # The nonce and the PKCE verifier are the gateway's secrets, not in the state.
    assert query["nonce"] not in query["state"]


def _callback_url(sso, agent) -> str:
    """Go through the provider, stopping before the gateway's callback."""
    reply = agent.http.get(sso.login_url("a.md"), allow_redirects=False)
    while not reply.headers["Location"].startswith(sso.url + "/sso/callback"):
        location = reply.headers["Location"]
        if location.startswith("/"):
            location = sso.op.issuer + location
        reply = agent.http.get(location, allow_redirects=False)
    return reply.headers["Location"]


def test_a_replayed_callback_is_refused(fresh):
    agent = Agent()
    callback = _callback_url(fresh, agent)
    assert "/sso/notebook/" in agent.open(callback).url
    calls = fresh.sim.total_calls()
    again = agent.http.get(callback)
    assert again.status_code == 401
    assert "used already" in again.text
    assert fresh.sim.total_calls() == calls


def test_a_callback_opened_in_another_browser_is_refused(fresh):
    callback = _callback_url(fresh, Agent())
    other = Agent().http.get(callback)
    assert other.status_code == 403
    assert "another browser" in other.text
    assert 'id="back"' in other.text  # a way back: sign in again


def test_a_state_never_issued_is_refused(fresh):
    reply = Agent().http.get(fresh.url + "/sso/callback", params={"code": "x", "state": "y" * 43})
    assert reply.status_code == 401


def test_a_declined_consent_gives_a_clear_page(fresh):
    fresh.op.choose("alice", deny=True)
    page = sign_in(fresh, Agent())
    assert page.status_code == 403
    assert "declined" in page.text
    assert 'id="back"' in page.text


def test_a_bad_code_gives_a_clear_page(fresh):
    agent = Agent()
    callback = _callback_url(fresh, agent)
    parts = dict(parse_qsl(urlsplit(callback).query))
    reply = agent.http.get(fresh.url + "/sso/callback", params={**parts, "code": "forged"})
    assert reply.status_code == 401
    assert "did not accept" in reply.text


def test_a_provider_that_is_down_gives_a_clear_page(fresh, monkeypatch):
    agent = Agent()
    callback = _callback_url(fresh, agent)
    endpoints = dict(fresh.provider.endpoints)
    with fresh.gw.db.begin() as session:
        row = session.get(type(fresh.provider), fresh.provider.id)
        row.endpoints = {**endpoints, "token_endpoint": "http://127.0.0.1:9/token"}
    try:
        reply = agent.http.get(callback)
        assert reply.status_code == 502
        assert "could not be reached" in reply.text
        assert "Traceback" not in reply.text
    finally:
        with fresh.gw.db.begin() as session:
            session.get(type(fresh.provider), fresh.provider.id).endpoints = endpoints
    down = Agent().http.get(fresh.url + f"/sso/{fresh.host.id}/login", allow_redirects=False)
    assert down.status_code == 302  # the login itself needs nothing from the provider


def test_a_second_sign_in_is_warm(fresh):
    fresh.op.choose("bob")
    browser = Agent()
    first = sign_in(fresh, browser)
    key = first.url.rsplit("/", 1)[1]
    reported = browser.http.post(
        f"{fresh.url}/embed/{key}/signed-in", headers={"Sec-Fetch-Site": "same-origin"}
    )
    assert reported.status_code == 204
    fresh.sim.reset()
    second = sign_in(fresh, Agent())
    assert "/sso/notebook/" in second.url
    expected = {} if fresh.sim.dialect == "v1" else {"system.generateUserAuthToken": 1}
    assert fresh.sim.calls() == expected


def test_sign_out_ends_the_session_and_the_pages(fresh):
    agent = Agent()
    page = sign_in(fresh, agent)
    key = page.url.rsplit("/", 1)[1]
    refused = agent.http.post(fresh.url + "/sso/logout", allow_redirects=False)
    assert refused.status_code == 403  # not from the gateway's own page
    out = agent.http.post(
        fresh.url + "/sso/logout", headers={"Sec-Fetch-Site": "same-origin"}, allow_redirects=False
    )
    assert out.status_code == 200  # a page that moves on to the provider's end_session
    target = unescape(re.search(r'href="([^"]+)" id="continue"', out.text).group(1))
    assert target.startswith(fresh.op.issuer + "/session/end") and "id_token_hint=" in target
    cookie = sessions.cookie_name(fresh.host.id)
    assert f"{cookie}=;" in out.headers["Set-Cookie"]
    confirm = agent.open(target)  # the provider's own logout form
    action = re.search(r'action="([^"]+)"', confirm.text).group(1)
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', confirm.text))
    landed = agent.post(action, {**fields, "logout": "yes"})  # what its script submits
    assert landed.status_code == 200 and "You are signed out" in landed.text
    assert 'id="sign-in-again"' in landed.text
    assert agent.http.get(fresh.url + f"/embed/{key}").status_code == 404  # never an embed page
    assert agent.http.get(fresh.url + f"/sso/notebook/{key}").status_code == 404
    assert (
        agent.http.get(
            fresh.url + f"/sso/{fresh.host.id}/notebooks", allow_redirects=False
        ).status_code
        == 303
    )  # signed out: sign in
    with fresh.gw.db.read() as session:
        ended = session.scalars(select(SsoSession.ended_at)).all()
    assert any(ended)


def test_my_notebooks_lists_projects_and_opens_one(fresh):
    agent = Agent()
    page = agent.open(fresh.login_url())  # no path: "my notebooks"
    assert page.url.endswith(f"/sso/{fresh.host.id}/notebooks")
    assert "My notebooks" in page.text
    opened = agent.http.post(
        fresh.url + f"/sso/{fresh.host.id}/open",
        data={"context": "", "path": "todo.md"},
        headers={"Sec-Fetch-Site": "same-origin"},
    )
    assert "/sso/notebook/" in opened.url and "todo.md" in opened.text
    made_up = agent.http.post(
        fresh.url + f"/sso/{fresh.host.id}/open",
        data={"context": "a-new-one"},
        headers={"Sec-Fetch-Site": "same-origin"},
    )
    assert made_up.status_code == 404
    anonymous = Agent().http.get(
        fresh.url + f"/sso/{fresh.host.id}/notebooks", allow_redirects=False
    )
    assert anonymous.status_code == 303 and "/login" in anonymous.headers["Location"]


def test_the_cli_manages_providers(fresh):
    runner = fresh.app.test_cli_runner()
    listed = runner.invoke(args=["sso", "list"])
    assert fresh.provider.id in listed.output
    assert fresh.op.client_secret not in listed.output
    bad = runner.invoke(
        args=[
            "sso",
            "add",
            "--host",
            fresh.host.id,
            "--issuer",
            "http://127.0.0.1:9",
            "--client-id",
            "x",
            "--client-secret",
            "y",
        ]
    )
    assert bad.exit_code != 0 and "could not be reached" in bad.output


TOP_LEVEL = {"Sec-Fetch-Dest": "document", "Sec-Fetch-Site": "cross-site"}


def test_an_sso_notebook_key_opens_nowhere_but_under_its_session(fresh):
    """The same key on /embed/ opens in no browser (it did, at top level, with the sign-in);
    another browser gets nothing under /sso/notebook/ either."""
    agent = Agent()
    page = sign_in(fresh, agent)
    key = page.url.rsplit("/", 1)[1]
    for browser in (agent, Agent()):
        reply = browser.http.get(fresh.url + f"/embed/{key}", headers=TOP_LEVEL)
        assert reply.status_code == 404
        assert "auth_token" not in reply.text and 'id="settings"' not in reply.text
    other = Agent().http.get(fresh.url + f"/sso/notebook/{key}", headers=TOP_LEVEL)
    assert other.status_code == 404 and "auth_token" not in other.text


def test_the_notebook_page_forgets_its_sign_in_once_it_signed_in(fresh):
    agent = Agent()
    page = sign_in(fresh, agent)
    assert "auth_token" in page.text  # the first view signs this browser in
    key = page.url.rsplit("/", 1)[1]
    same_origin = {"Sec-Fetch-Site": "same-origin"}
    assert agent.http.post(f"{fresh.url}/embed/{key}/signed-in").status_code == 403
    assert agent.http.post(f"{fresh.url}/embed/{key}/signed-in", headers=same_origin).ok
    again = agent.http.get(page.url, headers=TOP_LEVEL)
    assert again.status_code == 200 and 'id="sign-out"' in again.text
    assert "auth_token" not in again.text  # a reload: CoCalc's own cookie is in the browser
    stranger = Agent().http.post(f"{fresh.url}/embed/{key}/signed-in", headers=same_origin)
    assert stranger.status_code == 403  # the session binds the page's actions too


def test_a_browser_holds_a_session_per_host(fresh):
    """Signing in to a second host leaves the first session as it was."""
    from gateway import hosts
    from gateway.ways_in.sso import providers

    with fresh.app.app_context():
        second, _ = hosts.add(fresh.gw, "Second portal", [])
        providers.add(
            fresh.gw,
            second.id,
            issuer=fresh.op.issuer,
            client_id=fresh.op.client_id,
            client_secret=fresh.op.client_secret,
        )
    agent = Agent()
    first = sign_in(fresh, agent)
    other = agent.open(f"{fresh.url}/sso/{second.id}/login")
    assert other.url.endswith(f"/sso/{second.id}/notebooks")
    names = {c.name for c in agent.http.cookies}
    assert {sessions.cookie_name(fresh.host.id), sessions.cookie_name(second.id)} <= names
    mine = agent.http.get(fresh.url + f"/sso/{fresh.host.id}/notebooks", allow_redirects=False)
    assert mine.status_code == 200  # still signed in to the first host
    again = agent.http.get(first.url, headers=TOP_LEVEL)
    assert again.status_code == 200 and 'id="sign-out"' in again.text


def test_sign_out_ends_every_page_the_session_opened_at_once(fresh):
    import threading

    from gateway.store.models import Launch, utcnow
    from gateway.support.keys import digest

    agent = Agent()
    agent.open(fresh.login_url())
    opened = []

    def open_one(n):
        reply = agent.http.post(
            fresh.url + f"/sso/{fresh.host.id}/open",
            data={"context": "", "path": f"page-{n}.md"},
            headers={"Sec-Fetch-Site": "same-origin"},
            allow_redirects=False,
        )
        opened.append(reply.status_code)

    threads = [threading.Thread(target=open_one, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert opened == [303] * 6
    ours = digest(agent.http.cookies.get(sessions.cookie_name(fresh.host.id)))
    out = agent.http.post(
        fresh.url + "/sso/logout",
        data={"host": fresh.host.id},
        headers={"Sec-Fetch-Site": "same-origin"},
        allow_redirects=False,
    )
    assert out.status_code in (200, 303)
    with fresh.gw.db.read() as session:
        pages = session.execute(select(Launch).where(Launch.binding_digest == ours)).scalars()
        pages = pages.all()
        live = [p for p in pages if p.expires_at > utcnow() or p.token_encrypted]
    assert len(pages) == 6 and live == []
