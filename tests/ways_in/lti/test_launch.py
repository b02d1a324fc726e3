"""Resource-link launches from a real LTI platform: provisioning, replay, bad tokens, warm."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from gateway.store.models import Exchange, HostUser, UserProject
from gateway.ways_in.lti import identity
from tests.launching import rows


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
    from tests.ways_in.lti.conftest import FORM, INPUT, Agent

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
    agent.http.post(first.url + "/signed-in")
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
