"""SAML sign-in at two identity providers nobody here wrote (npm samlify, pysaml2's IdP):
the user provisioned once from the right attribute, the notebook open, sign-in bound to the
browser that started it, one-time responses, and what an operator must allow."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from sqlalchemy import func, select

from gateway.store.models import HostUser
from gateway.store.sso_tables import SsoSession
from gateway.ways_in.identity import external_id
from tests.ways_in.lti.conftest import Agent


def users_of(stack, host) -> list:
    with stack.gw.db.read() as session:
        return list(session.scalars(select(HostUser).where(HostUser.host_id == host.id)))


def test_a_sign_in_opens_the_notebook_as_the_user(way, saml_stack):
    host = saml_stack.host()
    way.register(host)
    agent = Agent()
    page = way.sign_in(agent, saml_stack.login_url(host, "lab.ipynb"))
    assert page.status_code == 200, page.text
    assert "/sso/notebook/" in page.url and "lab.ipynb in CoCalc" in page.text
    assert 'id="sign-out"' in page.text
    [user] = users_of(saml_stack, host)
    if way.name == "samlify":  # subject-id first; names and mail are profile data
        key = external_id("saml", way.entity_id, "subject-id:alice@example.test")
        assert (user.first_name, user.last_name, user.email) == (
            "Alice",
            "Liddell",
            "alice@example.test",
        )
    else:  # eduPersonPrincipalName, its scope listed in the IdP's metadata
        key = external_id("saml", way.entity_id, "eduPersonPrincipalName:carol@idp2.example.test")
        assert (user.first_name, user.last_name) == ("Carol", "Danvers")
    assert user.external_id == key and user.account_id


def test_signing_in_again_is_the_same_user(way, saml_stack):
    host = saml_stack.host()
    way.register(host)
    for _ in range(2):
        page = way.sign_in(Agent(), saml_stack.login_url(host))
        assert page.status_code == 200 and "/sso/" in page.url, page.text
    assert len(users_of(saml_stack, host)) == 1


def test_the_authn_request_is_bound_to_this_browser(stack):
    way_host = stack.host()
    peer = stack.peer()
    stack.add(way_host, source="url", location=peer.metadata_url)
    agent = Agent()
    start = agent.http.get(stack.login_url(way_host, "a.ipynb"), allow_redirects=False)
    assert start.status_code == 302
    query = dict(parse_qsl(urlsplit(start.headers["Location"]).query))
    assert start.headers["Location"].startswith(peer.base + "/sso?")
    assert len(query["RelayState"]) <= 80 and "SAMLRequest" in query
    assert "Signature" not in query  # samlify's metadata does not ask for signed requests
    cookies = (
        [c for c in start.headers.get_all("Set-Cookie")]
        if hasattr(start.headers, "get_all")
        else start.raw.headers.getlist("Set-Cookie")
    )
    state = next(c for c in cookies if c.startswith("__Host-saml_state_"))
    for attribute in ("Secure", "HttpOnly", "SameSite=None", "Path=/;"):
        assert attribute in state + ";"
    assert "Domain" not in state
    # The IdP's answer, posted from another browser (no state cookie): refused, nobody made.
    peer.choose("alice")
    answer = peer.respond(start.headers["Location"])
    stranger = Agent()
    refused = stranger.http.post(answer["action"], data=answer, allow_redirects=False)
    assert refused.status_code == 403
    assert "not started in this browser" in refused.text
    assert users_of(stack, way_host) == []
    # The browser that started it signs in with the same answer.
    page = agent.post(answer["action"], {k: answer[k] for k in ("SAMLResponse", "RelayState")})
    assert page.status_code == 200 and "/sso/notebook/" in page.url


def test_a_response_is_used_once(stack):
    host = stack.host()
    peer = stack.peer()
    stack.add(host, source="url", location=peer.metadata_url)
    agent = Agent()
    start = agent.http.get(stack.login_url(host), allow_redirects=False)
    peer.choose("alice")
    answer = peer.respond(start.headers["Location"])
    fields = {k: answer[k] for k in ("SAMLResponse", "RelayState")}
    assert agent.post(answer["action"], fields).status_code == 200
    again = agent.http.post(answer["action"], data=fields, allow_redirects=False)
    assert again.status_code in (401, 403), again.text
    with stack.gw.db.read() as session:
        sessions = session.scalar(
            select(func.count()).select_from(SsoSession).where(SsoSession.host_id == host.id)
        )
    assert sessions == 1
