"""Sign-in binding: every page signs in, and acts, only in the browser that got it. Each
attack is a plain HTTP client that sets ``Origin`` and ``Sec-Fetch-*`` as it likes; each
test client here is one browser (its own cookies). Framed pages are bound like top-level
ones: their URL ("Copy frame address", devtools, a HAR file) is no credential."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import select, update

from gateway import hosts
from gateway.launches import guard
from gateway.store.models import Launch, utcnow
from tests.launching import mint, page_settings

GATEWAY = "http://127.0.0.1"  # GATEWAY_PUBLIC_URL of the tests
FRAMED = {"Sec-Fetch-Dest": "iframe", "Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"}
OWN_PAGE = {"Origin": GATEWAY, "Sec-Fetch-Site": "same-origin", "Sec-Fetch-Dest": "empty"}
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
TICKET = re.compile(r'name="ticket" value="([^"]*)"')
#: Every action a page posts to its own URL, and what its own browser's request needs.
ACTIONS = ("new-tab/ticket", "signed-in", "start", "hand-in", "grade", "full-window")


def mallory(host, **claims) -> str:
    wanted = {"sub": "mallory", "given_name": "Mallory", "email": "mallory@example.edu"}
    return mint(host.id, host.secret, **{**wanted, **claims})


def victim_token(host) -> str:
    return mint(host.id, host.secret, sub="vicky", given_name="Vicky", email="v@example.edu")


def path_of(location: str) -> str:
    return location.removeprefix(GATEWAY)


def framed_page(client, host, token=None) -> tuple[str, str]:
    """A launch redeemed in a frame, as a browser does it: (its page path, its HTML)."""
    reply = client.post("/launch", data={"token": token or mallory(host)}, headers=FRAMED)
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
    assert "ticket" not in html


def ticket_of(client, location) -> str:
    reply = client.post(f"{location}/new-tab/ticket", headers=OWN_PAGE)
    assert reply.status_code == 200, reply.get_data(as_text=True)
    return reply.get_json()["ticket"]


def new_tab(client, location, ticket):
    return client.post(f"{location}/new-tab", data={"ticket": ticket}, headers=FORGED_OWN_PAGE)


def set_cookies(reply) -> list[str]:
    return reply.headers.getlist("Set-Cookie")


# -- the page's cookie ---------------------------------------------------------------------------
def test_a_framed_page_gets_a_partitioned_host_cookie_of_its_own(app, host, sim):
    client = app.test_client()
    reply = client.post("/launch", data={"token": mallory(host)}, headers=FRAMED)
    (cookie,) = set_cookies(reply)
    name = guard.page_cookie(path_of(reply.headers["Location"]).rsplit("/", 1)[1])
    assert cookie.startswith(name + "=") and name.startswith("__Host-gw_page_")
    attributes = {a.strip().split("=")[0] for a in cookie.split(";")[1:]}
    assert {"Secure", "HttpOnly", "Partitioned", "Path", "SameSite", "Max-Age"} <= attributes
    assert "Domain" not in attributes and "Path=/;" in cookie + ";"
    assert "SameSite=None" in cookie


def test_a_top_level_page_gets_a_lax_host_cookie(app, host, sim):
    client = app.test_client()
    host_post = {**VICTIM_TOP_LEVEL, "Origin": "https://lms.example.edu"}
    reply = client.post("/launch", data={"token": mallory(host)}, headers=host_post)
    (cookie,) = set_cookies(reply)
    assert cookie.startswith("__Host-gw_page_") and "SameSite=Lax" in cookie
    assert "Partitioned" not in cookie and "Domain" not in cookie and "Path=/;" in cookie + ";"


def test_every_cookie_the_gateway_sets_is_a_host_cookie(app):
    """No way in can set a cookie a sibling subdomain could set too."""
    from flask import Response

    from gateway.web import cookies

    for name in ("gw_page", "lti_state_x", "sso_state_x", "gw_session_x", "__Secure-x"):
        with pytest.raises(ValueError):
            cookies.set_cookie(Response(), name, "v", max_age=1, samesite="Lax", partitioned=False)


# -- the URL alone -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "headers",
    [FRAMED, {}, VICTIM_TOP_LEVEL, {"Sec-Fetch-Dest": "frame"}, {**FRAMED, **OWN_PAGE}],
    ids=["framed", "no-fetch-metadata", "top-level", "frame", "forged-same-origin"],
)
def test_a_framed_pages_url_alone_gets_no_sign_in(app, host, sim, headers):
    victim, thief = app.test_client(), app.test_client()
    location, html = framed_page(victim, host, victim_token(host))
    assert signs_in(html)
    stolen = thief.get(location, headers=headers)
    assert stolen.status_code == 403
    body = stolen.get_data(as_text=True)
    assert "auth_token" not in body and 'id="settings"' not in body and "ticket" not in body
    # The victim's own frame reloads as before.
    again = victim.get(location, headers=FRAMED)
    assert again.status_code == 200 and signs_in(again.get_data(as_text=True))


def test_after_its_sign_in_a_framed_pages_url_still_gets_nothing(app, host, sim):
    victim, thief = app.test_client(), app.test_client()
    location, _ = framed_page(victim, host, victim_token(host))
    assert victim.post(f"{location}/signed-in", headers=OWN_PAGE).status_code == 204
    for headers in (FRAMED, {}):
        assert_no_sign_in_for(thief.get(location, headers=headers), name="Vicky")
    assert victim.get(location, headers=FRAMED).status_code == 200


@pytest.mark.parametrize("action", ACTIONS)
def test_no_action_of_a_page_works_with_its_key_alone(app, host, sim, action):
    victim, thief = app.test_client(), app.test_client()
    location, _ = framed_page(victim, host, victim_token(host))
    before = sim.total_calls()
    for headers in (OWN_PAGE, FORGED_OWN_PAGE, {**OWN_PAGE, "Sec-Fetch-Dest": "iframe"}, {}):
        refused = thief.post(f"{location}/{action}", data={"score": "1"}, headers=headers)
        assert refused.status_code == 403, (action, headers)
    assert sim.total_calls() == before
    # Its own browser gets past the guard (the action may then not apply to this page).
    allowed = victim.post(f"{location}/{action}", headers=OWN_PAGE)
    assert allowed.status_code != 403, action


@pytest.mark.parametrize("action", ACTIONS)
def test_another_site_cannot_make_the_pages_browser_act(app, host, sim, action):
    """The page's own browser, driven by another site's form or fetch (CSRF): refused."""
    victim = app.test_client()
    location, _ = framed_page(victim, host, victim_token(host))
    cross_site = {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}
    same_site = {"Origin": "https://lms.example.edu", "Sec-Fetch-Site": "same-site"}
    for headers in (cross_site, same_site):
        assert victim.post(f"{location}/{action}", headers=headers).status_code == 403


# -- the new tab ---------------------------------------------------------------------------------
def test_a_new_tab_needs_a_ticket_that_only_the_pages_browser_gets(app, host, sim):
    victim, thief = app.test_client(), app.test_client()
    location, html = framed_page(victim, host, victim_token(host))
    assert TICKET.findall(html) == ["", ""]  # a bound page's HTML carries no ticket
    assert thief.post(f"{location}/new-tab/ticket", headers=OWN_PAGE).status_code == 403
    before = sim.total_calls()
    for made_up in ("", "x", "1.2.3", f"9999999999.nonce.{'a' * 43}"):
        assert new_tab(thief, location, made_up).status_code == 403
    assert sim.total_calls() == before
    ticket = ticket_of(victim, location)
    # Another site's form at top level, with the right ticket: refused.
    cross = {**VICTIM_TOP_LEVEL, "Origin": "https://evil.example"}
    assert (
        victim.post(f"{location}/new-tab", data={"ticket": ticket}, headers=cross).status_code
        == 403
    )
    # A ticket of one page opens no other page.
    other, _ = framed_page(victim, host, victim_token(host))
    assert new_tab(victim, other, ticket).status_code == 403
    opened = new_tab(victim, location, ticket)
    assert opened.status_code == 303
    (cookie,) = set_cookies(opened)
    assert cookie.startswith("__Host-gw_page_") and "SameSite=Lax" in cookie
    top = path_of(opened.headers["Location"])
    # The new tab signs in where its cookie is, and nowhere else; the ticket works once.
    page = victim.get(top, headers=VICTIM_TOP_LEVEL)
    assert page.status_code == 200 and signs_in(page.get_data(as_text=True))
    assert_no_sign_in_for(thief.get(top, headers=VICTIM_TOP_LEVEL), name="Vicky")
    replayed = new_tab(victim, location, ticket)
    assert replayed.status_code == 410 and "opened already" in replayed.get_data(as_text=True)
    assert new_tab(victim, location, ticket_of(victim, location)).status_code == 303


def test_an_expired_ticket_opens_no_tab(app, host, sim, monkeypatch):
    from gateway.launches import new_tab as tickets

    victim = app.test_client()
    location, _ = framed_page(victim, host, victim_token(host))
    monkeypatch.setattr(tickets, "TICKET_LIFETIME", timedelta(seconds=-1))
    ticket = ticket_of(victim, location)
    assert new_tab(victim, location, ticket).status_code == 410


def test_a_top_level_page_offers_no_new_tab(app, host, sim):
    client = app.test_client()
    location, _ = framed_page(client, host)
    top = path_of(new_tab(client, location, ticket_of(client, location)).headers["Location"])
    page = client.get(top, headers=VICTIM_TOP_LEVEL).get_data(as_text=True)
    assert "offer-form" not in page  # nothing to chain new tabs from a top-level page
    assert client.post(f"{top}/new-tab/ticket", headers=OWN_PAGE).status_code == 403
    assert new_tab(client, top, "1.2.3").status_code in (403, 404)


# -- a frame that no cookie reaches -------------------------------------------------------------
def cookieless_launch(app, host) -> tuple[str, object]:
    """A framed launch in a browser that keeps no cookie of the gateway's (Safari in a
    cross-site frame): the redirect's cookie is dropped."""
    browser = app.test_client(use_cookies=False)
    reply = browser.post("/launch", data={"token": victim_token(host)}, headers=FRAMED)
    assert reply.status_code == 303
    return path_of(reply.headers["Location"]), browser


def test_a_frame_no_cookie_reaches_opens_its_page_once_with_the_new_tab(app, host, sim):
    location, browser = cookieless_launch(app, host)
    first = browser.get(location, headers=FRAMED)
    html = first.get_data(as_text=True)
    assert first.status_code == 200 and not signs_in(html)
    settings = page_settings(html)
    assert settings["once"] is True and settings["handInUrl"] is None
    tickets = [t for t in TICKET.findall(html) if t]
    assert len(tickets) == 2
    # The one view is spent: the same URL, without a cookie, gets nothing more.
    assert_no_sign_in_for(browser.get(location, headers=FRAMED), name="Vicky")
    # The new tab (top level, where cookies are first-party) signs in.
    tab = app.test_client()
    opened = new_tab(tab, location, tickets[0])
    assert opened.status_code == 303
    page = tab.get(path_of(opened.headers["Location"]), headers=VICTIM_TOP_LEVEL)
    assert page.status_code == 200 and signs_in(page.get_data(as_text=True))


def test_the_one_view_is_only_in_the_moments_after_the_launch(app, gw, host, sim):
    location, browser = cookieless_launch(app, host)
    with gw.db.begin() as session:
        session.execute(update(Launch).values(issued_at=utcnow() - timedelta(minutes=2)))
    assert_no_sign_in_for(browser.get(location, headers=FRAMED), name="Vicky")


def test_a_bound_view_spends_the_one_view(app, host, sim):
    """Once its own browser saw the page, a cookieless request with the URL gets nothing."""
    victim = app.test_client()
    location, _ = framed_page(victim, host, victim_token(host))
    thief = app.test_client(use_cookies=False)
    assert_no_sign_in_for(thief.get(location, headers=FRAMED), name="Vicky")


def test_two_cookieless_views_at_once_get_one_page(app, host, sim):
    from concurrent.futures import ThreadPoolExecutor

    location, _browser = cookieless_launch(app, host)
    with ThreadPoolExecutor(4) as pool:
        codes = sorted(
            pool.map(lambda _: app.test_client().get(location, headers=FRAMED).status_code, [0] * 4)
        )
    assert codes == [200, 403, 403, 403]


# -- other pages, other browsers ----------------------------------------------------------------
def test_a_binding_cookie_of_another_page_opens_nothing(app, host, sim):
    """The attacker holds a good cookie of his own page and sends it with a victim's key,
    under his page's name and under the victim's."""
    attacker, victim = app.test_client(), app.test_client()
    location, _ = framed_page(victim, host, victim_token(host))
    reply = attacker.post("/launch", data={"token": mallory(host)}, headers=FRAMED)
    own_value = unescape(set_cookies(reply)[0].split(";", 1)[0].split("=", 1)[1])
    victims_key = location.rsplit("/", 1)[1]
    stolen = app.test_client()
    stolen.set_cookie(guard.page_cookie(victims_key), own_value)
    assert_no_sign_in_for(stolen.get(location, headers=FRAMED), name="Vicky")
    assert stolen.post(f"{location}/new-tab/ticket", headers=OWN_PAGE).status_code == 403


def test_a_browser_keeps_a_bounded_number_of_page_cookies(app, host, sim):
    client = app.test_client()
    for _ in range(guard.MAX_PAGE_COOKIES + 3):
        client.post("/launch", data={"token": mallory(host)}, headers=FRAMED)
    held = [c for c in client._cookies.values() if c.key.startswith(guard.PAGE_COOKIE_PREFIX)]
    assert len(held) == guard.MAX_PAGE_COOKIES


def test_a_framed_page_is_never_shown_at_top_level(app, host, sim):
    client = app.test_client()
    location, _ = framed_page(client, host)
    refused = client.get(location, headers=VICTIM_TOP_LEVEL)
    assert refused.status_code == 403 and "auth_token" not in refused.get_data(as_text=True)


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


# -- a removed host, a deprovisioned user: every page and action stops ---------------------------
@pytest.mark.parametrize("action", (*ACTIONS, "new-tab"))
def test_a_removed_host_stops_every_action(app, gw, host, sim, action):
    victim = app.test_client()
    location, _ = framed_page(victim, host, victim_token(host))
    ticket = ticket_of(victim, location)
    hosts.remove(gw, host.id)
    headers = FORGED_OWN_PAGE if action == "new-tab" else OWN_PAGE
    refused = victim.post(f"{location}/{action}", data={"ticket": ticket}, headers=headers)
    assert refused.status_code == 410, (action, refused.get_data(as_text=True))
    assert victim.get(location, headers=FRAMED).status_code == 410


# -- confirmations at top level ------------------------------------------------------------------
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
    assert confirmed.status_code == 303
    assert set_cookies(confirmed)[0].startswith(guard.PAGE_COOKIE_PREFIX)
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


def test_a_framed_one_time_link_is_bound_to_the_frame_that_redeemed_it(app, host, sim):
    from tests.launching import api

    link = api(app.test_client(), host.secret, {"user": {"id": "vicky", "first_name": "Vicky"}})
    frame = app.test_client()
    reply = frame.get(path_of(link.get_json()["url"]), headers=FRAMED)
    assert reply.status_code == 303 and "Partitioned" in set_cookies(reply)[0]
    page = path_of(reply.headers["Location"])
    assert frame.get(page, headers=FRAMED).status_code == 200
    assert_no_sign_in_for(app.test_client().get(page, headers=FRAMED), name="Vicky")
