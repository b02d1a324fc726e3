"""Sign-in binding: a page that signs a browser in at top level reaches only the browser that
started its flow. Each attack is a plain HTTP client that sets ``Origin`` and
``Sec-Fetch-*`` as it likes; each test client here is one browser (its own cookies)."""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import select

from gateway.launches import guard
from gateway.store.models import Launch
from tests.launching import mint, page_settings

GATEWAY = "http://127.0.0.1"  # GATEWAY_PUBLIC_URL of the tests
FRAMED = {"Sec-Fetch-Dest": "iframe", "Sec-Fetch-Site": "cross-site"}
FORGED_OWN_PAGE = {
    "Origin": GATEWAY,
    "Sec-Fetch-Site": "same-origin",
    "Sec-Fetch-Dest": "document",
    "Sec-Fetch-Mode": "navigate",
}
VICTIM_TOP_LEVEL = {
    "Sec-Fetch-Dest": "document",
    "Sec-Fetch-Site": "cross-site",
    "Sec-Fetch-Mode": "navigate",
}
PROOF = re.compile(r'name="proof" value="([^"]+)"')


def mallory(host, **claims) -> str:
    wanted = {"sub": "mallory", "given_name": "Mallory", "email": "mallory@example.edu"}
    return mint(host.id, host.secret, **{**wanted, **claims})


def path_of(location: str) -> str:
    return location.removeprefix(GATEWAY)


def framed_page(client, host) -> tuple[str, str]:
    """The attacker's own launch, redeemed as if framed: (its page path, its HTML)."""
    reply = client.post("/launch", data={"token": mallory(host)}, headers=FRAMED)
    assert reply.status_code == 303
    location = path_of(reply.headers["Location"])
    page = client.get(location, headers=FRAMED)
    assert page.status_code == 200
    return location, page.get_data(as_text=True)


def signs_in(html: str) -> bool:
    """Whether a response carries a CoCalc sign-in (either dialect)."""
    return "auth_token" in html or ("signInUrl" in html and page_settings(html)["signInUrl"])


def assert_no_sign_in_for(reply, name="Mallory"):
    html = reply.get_data(as_text=True)
    assert reply.status_code == 403, html
    assert name in html and "another browser" in html  # names whose account it is
    assert "auth_token" not in html and 'id="settings"' not in html


def test_a_new_tab_minted_by_a_plain_client_signs_no_one_else_in(app, host, sim):
    attacker, victim, second_victim = (app.test_client() for _ in range(3))
    location, html = framed_page(attacker, host)
    # What a victim's top-level GET of the framed page rightly gets:
    assert victim.get(location, headers=VICTIM_TOP_LEVEL).status_code == 403
    minted = attacker.post(
        f"{location}/new-tab", data={"proof": PROOF.findall(html)[0]}, headers=FORGED_OWN_PAGE
    )
    assert minted.status_code == 303
    assert f"{guard.BINDING_COOKIE}=" in minted.headers["Set-Cookie"]
    for attribute in ("Secure", "HttpOnly", "SameSite=Lax"):
        assert attribute in minted.headers["Set-Cookie"]
    top = path_of(minted.headers["Location"])
    assert f"Path={top}" in minted.headers["Set-Cookie"]  # the cookie goes to this page only
    # Any victim sent there, and a second one with the same key: no sign-in, the account named.
    assert_no_sign_in_for(victim.get(top, headers=VICTIM_TOP_LEVEL))
    assert_no_sign_in_for(second_victim.get(top, headers=VICTIM_TOP_LEVEL))
    # The forged headers bought the attacker a page in his own client, and only once.
    own = attacker.get(top, headers=VICTIM_TOP_LEVEL)
    assert own.status_code == 200 and page_settings(own.get_data(as_text=True))["topLevel"]
    assert signs_in(own.get_data(as_text=True))
    again = attacker.get(top, headers=VICTIM_TOP_LEVEL)
    assert again.status_code == 200 and not signs_in(again.get_data(as_text=True))


def test_the_new_tab_asks_for_the_framed_pages_own_one_time_proof(app, host, sim):
    attacker = app.test_client()
    location, html = framed_page(attacker, host)
    proofs = PROOF.findall(html)
    assert len(proofs) == 2  # "Open in a new tab" and "Open it again"
    before = sim.total_calls()
    # Another site's form, at top level, with the right proof: refused.
    cross_site = {**VICTIM_TOP_LEVEL, "Origin": "https://evil.example"}
    posted = attacker.post(f"{location}/new-tab", data={"proof": proofs[0]}, headers=cross_site)
    assert posted.status_code == 403
    # Same-origin headers without the proof, or with a made-up one: refused.
    for data in ({}, {"proof": "x" * 43}, {"proof": proofs[0][:-1] + "A"}):
        posted = attacker.post(f"{location}/new-tab", data=data, headers=FORGED_OWN_PAGE)
        assert posted.status_code == 403
    assert sim.total_calls() == before  # nothing was asked of CoCalc for any of these
    # Each proof works once; a replay of the request is refused.
    assert (
        attacker.post(
            f"{location}/new-tab", data={"proof": proofs[0]}, headers=FORGED_OWN_PAGE
        ).status_code
        == 303
    )
    replayed = attacker.post(
        f"{location}/new-tab", data={"proof": proofs[0]}, headers=FORGED_OWN_PAGE
    )
    assert replayed.status_code == 401 and "opened already" in replayed.get_data(as_text=True)
    assert (
        attacker.post(
            f"{location}/new-tab", data={"proof": proofs[1]}, headers=FORGED_OWN_PAGE
        ).status_code
        == 303
    )


def test_a_top_level_page_cannot_open_a_new_tab(app, host, sim):
    attacker = app.test_client()
    location, html = framed_page(attacker, host)
    top = path_of(
        attacker.post(
            f"{location}/new-tab", data={"proof": PROOF.findall(html)[0]}, headers=FORGED_OWN_PAGE
        ).headers["Location"]
    )
    page = attacker.get(top, headers=VICTIM_TOP_LEVEL).get_data(as_text=True)
    assert "offer-form" not in page  # no proofs to chain new tabs from a top-level page
    assert attacker.post(f"{top}/new-tab", headers=FORGED_OWN_PAGE).status_code == 404


def test_a_confirmation_continue_needs_the_confirmation_pages_proof(app, host, sim):
    """An attacker's token posted at top level with forged same-origin headers but no proof
    gets the confirmation page again, not a page that signs in."""
    client = app.test_client()
    token = mallory(host)
    asked = client.post("/launch", data={"token": token}, headers=FORGED_OWN_PAGE)
    assert asked.status_code == 200 and "Open CoCalc as this person?" in asked.get_data(True)
    assert sim.total_calls() == 0
    proof = PROOF.search(asked.get_data(as_text=True)).group(1)
    confirmed = client.post(
        "/launch", data={"token": token, "proof": proof}, headers=FORGED_OWN_PAGE
    )
    assert confirmed.status_code == 303 and guard.BINDING_COOKIE in confirmed.headers["Set-Cookie"]
    # The page works in the browser that confirmed, and in no other.
    page = path_of(confirmed.headers["Location"])
    assert_no_sign_in_for(app.test_client().get(page, headers=VICTIM_TOP_LEVEL))
    assert client.get(page, headers=VICTIM_TOP_LEVEL).status_code == 200


def test_a_proof_of_one_launch_does_not_confirm_another(app, host, sim):
    client = app.test_client()
    asked = client.post("/launch", data={"token": mallory(host)}, headers=FORGED_OWN_PAGE)
    proof = PROOF.search(asked.get_data(as_text=True)).group(1)
    other = client.post(
        "/launch", data={"token": mallory(host), "proof": proof}, headers=FORGED_OWN_PAGE
    )
    assert other.status_code == 200 and "Open CoCalc as this person?" in other.get_data(True)


def test_a_host_page_form_post_at_top_level_is_bound_to_the_posting_browser(app, host, sim):
    """The host's own page may post a launch at top level: the page is the poster's only,
    so the same request forged by a plain client leaves nothing a victim can use."""
    client = app.test_client()
    host_post = {**VICTIM_TOP_LEVEL, "Origin": "https://lms.example.edu"}
    reply = client.post("/launch", data={"token": mallory(host)}, headers=host_post)
    assert reply.status_code == 303
    page = path_of(reply.headers["Location"])
    assert client.get(page, headers=VICTIM_TOP_LEVEL).status_code == 200
    assert_no_sign_in_for(app.test_client().get(page, headers=VICTIM_TOP_LEVEL))


def test_a_one_time_link_confirmed_at_top_level_is_bound_too(app, host, sim):
    from tests.launching import api

    link = api(app.test_client(), host.secret, {"user": {"id": "mallory", "first_name": "Mallory"}})
    url = path_of(link.get_json()["url"])
    client = app.test_client()
    asked = client.post(url, headers=FORGED_OWN_PAGE)
    assert asked.status_code == 200
    proof = PROOF.search(asked.get_data(as_text=True)).group(1)
    reply = client.post(url, data={"proof": proof}, headers=FORGED_OWN_PAGE)
    assert reply.status_code == 303
    page = path_of(reply.headers["Location"])
    assert_no_sign_in_for(app.test_client().get(page, headers=VICTIM_TOP_LEVEL))


def test_a_framed_page_is_never_shown_at_top_level(app, host, sim):
    client = app.test_client()
    location, _ = framed_page(client, host)
    refused = client.get(location, headers=VICTIM_TOP_LEVEL)
    assert refused.status_code == 403 and "auth_token" not in refused.get_data(as_text=True)


def test_a_binding_cookie_of_another_page_opens_nothing(app, host, sim):
    """The attacker holds a good cookie of his own page and sends it with a victim's key."""
    attacker, victim = app.test_client(), app.test_client()
    location, victim_html = framed_page(victim, host)
    minted = victim.post(
        f"{location}/new-tab",
        data={"proof": PROOF.findall(victim_html)[0]},
        headers=FORGED_OWN_PAGE,
    )
    victims_page = path_of(minted.headers["Location"])
    own_location, own_html = framed_page(attacker, host)
    own = attacker.post(
        f"{own_location}/new-tab",
        data={"proof": PROOF.findall(own_html)[0]},
        headers=FORGED_OWN_PAGE,
    )
    cookie = re.search(rf"{guard.BINDING_COOKIE}=([^;]+)", own.headers["Set-Cookie"]).group(1)
    stolen = app.test_client()
    stolen.set_cookie(guard.BINDING_COOKIE, unescape(cookie), path=victims_page)
    assert_no_sign_in_for(stolen.get(victims_page, headers=VICTIM_TOP_LEVEL))


@pytest.mark.parametrize("kind", ["top", "sso"])
def test_pages_of_other_types_are_no_embed_pages(app, gw, host, sim, kind):
    """A key of a top-level or SSO page never opens as a framed page."""
    client = app.test_client()
    location, _ = framed_page(client, host)
    with gw.db.begin() as session:
        session.execute(Launch.__table__.update().values(kind=kind, binding_digest=None))
    reply = client.get(location, headers=FRAMED)
    if kind == "sso":
        assert reply.status_code == 404  # SSO pages live under their session only
    else:
        assert_no_sign_in_for(reply)
    with gw.db.read() as session:
        assert session.scalar(select(Launch.kind)) == kind
