"""Resource-link launches from a real LTI platform: provisioning, replay, bad tokens, warm."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest
import requests
from sqlalchemy import select

from gateway.store.models import Exchange, HostUser, UserProject
from gateway.ways_in.lti import identity
from tests.launching import rows
from tests.ways_in.lti.conftest import FORM, INPUT, Agent


def test_a_launch_provisions_the_user_and_ends_on_the_embed_page(lti, agent):
    page = agent.open(lti.course_launch(user="stu-1", name="Ada%20Lovelace", path="hw/one.ipynb"))
    assert page.status_code == 200, page.text
    assert "/embed/" in page.url
    assert "hw/one.ipynb" in page.text
    with lti.gw.db.read() as session:
        user = session.scalar(select(HostUser))
        project = session.scalar(select(UserProject))
    assert user.external_id == identity.user_id(lti.lms.issuer, "stu-1")
    assert (user.first_name, user.last_name) == ("Ada", "Lovelace")
    assert user.account_id and project.project_id
    assert project.context == identity.context_of(lti.lms.issuer, "course-1")
    assert user.account_id in lti.sim.project(project.project_id)["collaborators"]


def test_the_login_asks_the_platform_for_exactly_what_lti_requires(lti, agent):
    reply = agent.http.get(lti.course_launch(user="stu-1"), allow_redirects=False)
    login = agent.http.get(reply.headers["Location"], allow_redirects=False)
    assert login.status_code == 302
    cookie = login.headers["Set-Cookie"]
    for attribute in ("Secure", "HttpOnly", "SameSite=None", "Partitioned", "Max-Age=300"):
        assert attribute in cookie
    request = requests_query(login.headers["Location"])
    assert request["scope"] == "openid" and request["response_type"] == "id_token"
    assert request["response_mode"] == "form_post" and request["prompt"] == "none"
    assert request["redirect_uri"] == lti.url + "/lti/launch"
    assert request["client_id"] == lti.lms.client_id and request["login_hint"] == "stu-1"
    assert request["nonce"] and request["state"] and request["lti_message_hint"]


def requests_query(url: str) -> dict:
    from urllib.parse import parse_qsl, urlsplit

    return dict(parse_qsl(urlsplit(url).query))


def test_a_replayed_launch_is_refused_without_a_cocalc_call(lti, agent):
    assert "/embed/" in agent.open(lti.course_launch(user="stu-1")).url
    launch_url, fields = agent.posted[-1]
    calls = lti.sim.total_calls()
    pages = rows(lti.gw, Exchange)
    again = agent.http.post(launch_url, data=fields, allow_redirects=False)
    assert again.status_code == 401
    assert "used already" in again.text
    assert lti.sim.total_calls() == calls
    assert rows(lti.gw, Exchange) == pages


def test_someone_elses_launch_does_not_work_in_this_browser(lti, agent):
    """Login CSRF: an attacker's own valid launch (id_token and state) forwarded to a victim
    lacks the victim browser's binding, and is refused."""
    attacker = agent
    reply = attacker.http.get(lti.course_launch(user="attacker"), allow_redirects=False)
    login = attacker.http.get(reply.headers["Location"], allow_redirects=False)
    form = attacker.http.get(login.headers["Location"])
    action, inputs = FORM.search(form.text).groups()
    victim = Agent()
    refused = victim.http.post(action, data=dict(INPUT.findall(inputs)))
    assert refused.status_code == 403
    assert "did not start this launch" in refused.text
    assert rows(lti.gw, HostUser) == 0


@pytest.mark.parametrize(
    ("tamper", "status", "words"),
    [
        ({"key": "other"}, 401, "signature does not verify"),
        ({"aud": "someone-else"}, 401, "invalid claim"),
        ({"nonce": "not-the-nonce"}, 401, "invalid claim"),
        ({"deployment_id": "deployment-x"}, 403, "deployment"),
        ({"expires_in": -120}, 401, "expired"),
    ],
)
def test_bad_id_tokens_are_refused_with_a_clear_page(lti, agent, tamper, status, words):
    lti.lms.tamper = tamper
    page = agent.open(lti.course_launch(user="stu-1"))
    assert page.status_code == status, page.text
    assert words in page.text
    assert "Traceback" not in page.text
    assert "frame-ancestors *" in page.headers["Content-Security-Policy"]
    assert rows(lti.gw, HostUser) == 0
    assert lti.sim.total_calls() == 0


def test_a_key_the_platform_rotated_to_is_fetched(lti, agent):
    assert "/embed/" in agent.open(lti.course_launch(user="stu-1")).url
    lti.lms.rotate_keys()  # new kid: the cached key set lacks it, so it is fetched again
    assert "/embed/" in agent.open(lti.course_launch(user="stu-1")).url


def test_a_warm_second_launch_makes_no_cocalc_call(lti, agent):
    first = agent.open(lti.course_launch(user="stu-1"))
    agent.http.post(first.url + "/signed-in", headers={"Sec-Fetch-Site": "same-origin"})
    lti.sim.reset()
    second = agent.open(lti.course_launch(user="stu-1"))
    assert "/embed/" in second.url
    expected = {} if lti.sim.dialect == "v1" else {"system.generateUserAuthToken": 1}
    assert lti.sim.calls() == expected  # current: the spare token, fetched after the page


@pytest.mark.parametrize(
    ("params", "status", "words"),
    [
        ({"iss": "https://unknown.example", "login_hint": "x"}, 404, "not registered"),
        ({"login_hint": "x"}, 400, "no iss"),
        ({"target_link_uri": "https://evil.example/lti/launch"}, 400, "not on this gateway"),
        ({"lti_deployment_id": "nope"}, 403, "deployment"),
        ({"lti_storage_target": "<script>"}, 400, "frame name"),
    ],
)
def test_bad_logins_are_refused(lti, agent, params, status, words):
    base = {
        "iss": lti.lms.issuer,
        "login_hint": "stu-1",
        "target_link_uri": lti.url + "/lti/launch",
        "client_id": lti.lms.client_id,
    }
    if "iss" not in params and "login_hint" in params and len(params) == 1:
        base.pop("iss")
    reply = agent.http.get(lti.url + "/lti/login", params={**base, **params})
    assert reply.status_code == status, reply.text
    assert words in reply.text
    assert rows(lti.gw, Exchange) == 0


def test_an_unknown_state_is_refused(lti, agent):
    reply = agent.http.post(lti.url + "/lti/launch", data={"state": "x" * 43, "id_token": "a.b.c"})
    assert reply.status_code == 401
    assert agent.http.head(lti.url + "/lti/login").status_code == 200
    assert rows(lti.gw, Exchange) == 0


def test_the_platform_s_own_error_is_shown(lti, agent):
    reply = agent.http.post(lti.url + "/lti/launch", data={"error": "login_required"})
    assert reply.status_code == 401
    assert "login_required" in reply.text


FRAMED = {"Sec-Fetch-Dest": "iframe", "Sec-Fetch-Site": "cross-site"}
SETTINGS = re.compile(r'<script id="lti-storage" type="application/json">(.*?)</script>', re.S)


def _storage_settings(reply) -> dict:
    return json.loads(SETTINGS.search(reply.text).group(1))


def attackers_continuation(lti) -> tuple[str, str]:
    """The attacker's own login with ``lti_storage_target`` added by hand, framed; he reads
    the binding value off the storage page, and posts his own id_token and state without
    the login's cookie: (continuation, value)."""
    attacker = Agent()
    course = attacker.http.get(
        lti.course_launch(user="mallory", storage="_parent"), allow_redirects=False
    )
    put = attacker.http.get(course.headers["Location"], headers=FRAMED)
    put_settings = _storage_settings(put)
    assert put_settings["mode"] == "put"
    form = requests.get(put_settings["next"], timeout=10)  # no cookie from here on
    action, inputs = FORM.search(form.text).groups()
    get = requests.post(unescape(action), data=dict(INPUT.findall(inputs)), timeout=10)
    get_settings = _storage_settings(get)
    assert get_settings["mode"] == "get"
    return get_settings["continuation"], put_settings["value"]


def test_a_storage_continuation_posted_from_another_site_is_refused(lti):
    continuation, value = attackers_continuation(lti)
    cross_site = {
        "Sec-Fetch-Site": "cross-site",
        "Sec-Fetch-Dest": "document",
        "Origin": "https://evil.example",
    }
    victim = Agent()
    refused = victim.http.post(
        lti.url + "/lti/launch/storage",
        data={"continuation": continuation, "value": value},
        headers=cross_site,
        allow_redirects=False,
    )
    assert refused.status_code == 403
    assert rows(lti.gw, HostUser) == 0 and lti.sim.total_calls() == 0
    # Forged same-origin headers from a plain client get a framed page, in that client: a
    # victim's browser at top level is refused it, and it names nobody's sign-in there.
    forged = victim.http.post(
        lti.url + "/lti/launch/storage",
        data={"continuation": continuation, "value": value},
        headers={**cross_site, "Sec-Fetch-Site": "same-origin", "Origin": lti.url},
        allow_redirects=False,
    )
    assert forged.status_code == 303
    page = Agent().http.get(forged.headers["Location"], headers={"Sec-Fetch-Dest": "document"})
    assert page.status_code == 403 and "auth_token" not in page.text


def test_a_login_at_top_level_ignores_lti_storage_target(lti):
    """Platform storage is the framing window's: a login that is not framed binds with its
    cookie alone, and shows no binding value in a page."""
    agent = Agent()
    course = lti.course_launch(user="stu-1", storage="_parent")
    reply = agent.http.get(course, allow_redirects=False)
    login = agent.http.get(
        reply.headers["Location"], headers={"Sec-Fetch-Dest": "document"}, allow_redirects=False
    )
    assert login.status_code == 302 and "lti-storage" not in login.text


def test_a_launch_the_platform_sent_at_top_level_is_bound_to_this_browser(lti):
    """A tool opened in a window of its own: the page signs in at top level in the browser
    holding the login's cookie, and in no other."""
    agent = Agent()
    top = {"Sec-Fetch-Dest": "document", "Sec-Fetch-Site": "cross-site"}
    reply = agent.http.get(lti.course_launch(user="stu-1"), allow_redirects=False)
    login = agent.http.get(reply.headers["Location"], headers=top, allow_redirects=False)
    form = agent.http.get(login.headers["Location"])
    action, inputs = FORM.search(form.text).groups()
    launched = agent.http.post(
        unescape(action), data=dict(INPUT.findall(inputs)), headers=top, allow_redirects=False
    )
    assert launched.status_code == 303 and "__Host-gw_page_" in launched.headers["Set-Cookie"]
    page = agent.http.get(launched.headers["Location"], headers=top)
    assert page.status_code == 200 and '"topLevel": true' in page.text
    other = Agent().http.get(launched.headers["Location"], headers=top)
    assert other.status_code == 403 and "auth_token" not in other.text


def test_garbage_posted_with_a_seen_state_does_not_spoil_the_launch(lti, agent):
    """Someone who saw ``state`` (a platform's log) posts garbage with it first: the state
    is used up only by a launch that checks out, so the real one still works."""
    reply = agent.http.get(lti.course_launch(user="stu-1"), allow_redirects=False)
    login = agent.http.get(reply.headers["Location"], allow_redirects=False)
    form = agent.http.get(login.headers["Location"])
    action, inputs = FORM.search(form.text).groups()
    fields = dict(INPUT.findall(inputs))
    spoiled = requests.post(
        unescape(action), data={"state": fields["state"], "id_token": "a.b.c"}, timeout=10
    )
    assert spoiled.status_code == 401
    assert "/embed/" in agent.post(unescape(action), fields).url


def test_the_claims_that_wait_for_platform_storage_are_encrypted(lti):
    from sqlalchemy import select

    attackers_continuation(lti)
    with lti.gw.db.read() as session:
        waiting = session.scalars(select(Exchange.data).where(Exchange.kind == "bound")).all()
    assert waiting and all("mallory" not in json.dumps(data) for data in waiting)


@pytest.mark.parametrize(
    "lti", [{"GATEWAY_LOGINS_PER_HOST": 3, "GATEWAY_LOGIN_RATE_LIMIT": 100}], indirect=True
)
def test_a_flood_of_logins_from_many_addresses_locks_no_learner_out(lti, agent):
    """Strangers on eight addresses (real sockets from 127.0.0.2-9) start ten logins each,
    far past the host's budget; a learner from a fresh address then launches as ever."""
    import http.client
    from urllib.parse import urlencode, urlsplit

    port = urlsplit(lti.url).port
    query = urlencode(
        {"iss": lti.lms.issuer, "client_id": lti.lms.client_id, "login_hint": "x",
         "target_link_uri": lti.url + "/lti/launch"}
    )  # fmt: skip
    answered = []
    for n in range(2, 10):
        for _ in range(10):
            connection = http.client.HTTPConnection(
                "127.0.0.1", port, timeout=10, source_address=(f"127.0.0.{n}", 0)
            )
            connection.request("GET", "/lti/login?" + query)
            answered.append(connection.getresponse().status)
            connection.close()
    assert answered.count(302) == 80  # every login was answered, and none was kept
    assert rows(lti.gw, Exchange) == 0
    page = agent.open(lti.course_launch(user="stu-after-the-flood"))
    assert page.status_code == 200 and "/embed/" in page.url
