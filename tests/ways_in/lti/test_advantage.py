"""LTI Advantage against a real platform: staff access, Deep Linking, hand-in with a score,
roster sync, the tool's key rotation, Dynamic Registration, the configuration documents."""

from __future__ import annotations

import re
import uuid
from html import unescape

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy import select

from gateway import hosts
from gateway.store.lti_tables import LtiPlatform, StaffGrant
from gateway.store.models import HostUser, UserProject
from gateway.support import concurrency
from gateway.ways_in.lti import identity, tool_keys
from tests.launching import rows

SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin", "Accept": "application/json"}


def project_of(lti, sub: str, context="course-1") -> str:
    with lti.gw.db.read() as session:
        return session.scalar(
            select(UserProject.project_id)
            .join(HostUser, HostUser.id == UserProject.user_id)
            .where(
                HostUser.external_id == identity.user_id(lti.lms.issuer, sub),
                UserProject.context == identity.context_of(lti.lms.issuer, context),
            )
        )


def account_of(lti, sub: str) -> str:
    with lti.gw.db.read() as session:
        return session.scalar(
            select(HostUser.account_id).where(
                HostUser.external_id == identity.user_id(lti.lms.issuer, sub)
            )
        )


def test_instructors_collaborate_on_every_learner_project_of_their_course(lti, agent):
    """Learners before and after the instructor's first launch; another course stays apart."""
    assert "/embed/" in agent.open(lti.course_launch(user="early")).url
    assert "/embed/" in agent.open(lti.course_launch(user="prof", role="Instructor")).url
    assert "/embed/" in agent.open(lti.course_launch(user="late")).url
    assert "/embed/" in agent.open(lti.course_launch("course-2", user="elsewhere")).url
    assert "/embed/" in agent.open(lti.course_launch(user="ta", role="TeachingAssistant")).url
    concurrency.wait_idle()
    staff = {account_of(lti, "prof"), account_of(lti, "ta")}
    for learner in ("early", "late"):
        collaborators = set(lti.sim.project(project_of(lti, learner))["collaborators"])
        assert staff <= collaborators, learner
    elsewhere = set(lti.sim.project(project_of(lti, "elsewhere", "course-2"))["collaborators"])
    assert not staff & elsewhere
    prof_project = set(lti.sim.project(project_of(lti, "prof"))["collaborators"])
    assert account_of(lti, "ta") not in prof_project  # staff do not share their own projects
    assert rows(lti.gw, StaffGrant) == 4


def test_staff_grants_survive_cocalc_being_down(lti, agent, monkeypatch):
    """A grant CoCalc refused stays queued with a backoff, and housekeeping finishes it."""
    from datetime import timedelta

    from gateway.provisioning import staff
    from gateway.store.models import utcnow

    monkeypatch.setattr(staff, "grant_soon", lambda gw: None)  # housekeeping will do it
    assert "/embed/" in agent.open(lti.course_launch(user="early")).url
    assert "/embed/" in agent.open(lti.course_launch(user="prof", role="Instructor")).url
    concurrency.wait_idle()
    lti.sim.fault(lti.sim.endpoint("invite_collaborator", "projects.addCollaborator"), "error", 5)
    assert staff.grant_due(lti.gw) == 0
    with lti.gw.db.read() as session:
        grant = session.scalar(select(StaffGrant))
    assert not grant.done and grant.attempts == 1 and grant.next_try_at > utcnow()
    lti.sim.reset()
    assert staff.grant_due(lti.gw) == 0  # not due yet: the backoff holds
    with lti.gw.db.begin() as session:
        session.scalar(select(StaffGrant)).next_try_at = utcnow() - timedelta(seconds=1)
    assert staff.grant_due(lti.gw) == 1
    collaborators = lti.sim.project(project_of(lti, "early"))["collaborators"]
    assert account_of(lti, "prof") in collaborators


def choose(agent, picker_page, path: str):
    key = re.search(r'name="key" value="([^"]+)"', picker_page.text).group(1)
    action = unescape(
        re.search(r'<form method="post" action="([^"]+)" id="picker">', picker_page.text).group(1)
    )
    return agent.post(action, {"key": key, "path": path})


def test_deep_linking_offers_the_catalogue_and_answers_with_a_signed_link(lti, agent):
    template = lti.gw.cocalc.create_project(title="template").project_id
    lti.gw.cocalc.write_text_file_to_project(template, "extra/lab.ipynb", "{}")
    with lti.app.app_context():
        host, _ = hosts.add(
            lti.gw,
            "Templated",
            [lti.lms.url],
            template_project_id=template,
            template_paths=["welcome.ipynb"],
        )
    lti.gw.cocalc.write_text_file_to_project(template, "welcome.ipynb", "{}")
    with lti.gw.db.begin() as session:
        session.get(LtiPlatform, lti.platform.id).host_id = host.id
    picker = agent.open(lti.course_launch(user="prof", role="Instructor", message="deeplink"))
    assert picker.status_code == 200, picker.text
    offered = re.findall(r'name="path" value="([^"]+)"', picker.text)
    assert offered == ["welcome.ipynb", "extra/lab.ipynb"]
    done = choose(agent, picker, "extra/lab.ipynb")
    assert done.status_code == 200, done.text  # the LMS verified the response with our key set
    [item] = lti.lms.deep_link_items
    assert item["type"] == "ltiResourceLink"
    assert item["custom"] == {"path": "extra/lab.ipynb"}
    assert item["url"] == lti.url + "/lti/launch"
    # The picker is used up; a second choice (a double click) is refused.
    assert choose(agent, picker, "welcome.ipynb").status_code == 410
    assert len(lti.lms.deep_link_items) == 1


def test_a_deep_linking_response_is_what_the_spec_asks(lti, agent):
    picker = agent.open(lti.course_launch(user="prof", role="Instructor", message="deeplink"))
    assert "no notebooks to offer" in picker.text  # a host without templates
    with lti.gw.db.begin() as session:
        session.get(type(lti.host), lti.host.id).template_paths = ["a.ipynb"]
    hosts.forget_cached(lti.gw, lti.host.id)
    picker = agent.open(lti.course_launch(user="prof", role="Instructor", message="deeplink"))
    reply = choose(agent, picker, "a.ipynb")
    assert reply.status_code == 200
    _, fields = agent.posted[-1]
    response = jwt.decode(fields["JWT"], KeySet.import_key_set(tool_keys.key_set(lti.gw)))
    claims = response.claims
    assert response.header["kid"] == tool_keys.current(lti.gw).signing.kid
    assert claims["iss"] == lti.lms.client_id and claims["aud"] == lti.lms.issuer
    dl = "https://purl.imsglobal.org/spec/lti-dl/claim/"
    lti_claim = "https://purl.imsglobal.org/spec/lti/claim/"
    assert claims[lti_claim + "message_type"] == "LtiDeepLinkingResponse"
    assert claims[lti_claim + "deployment_id"] == lti.lms.deployment_id
    assert claims[dl + "data"] == {"opaque": "course-course-1"}  # echoed as it came
    assert claims["exp"] - claims["iat"] <= 300
    assert choose(agent, picker, "not-offered.ipynb").status_code in (400, 410)


def test_hand_in_copies_the_file_and_posts_a_submitted_score(lti, agent):
    page = agent.open(lti.course_launch(user="stu-1", path="hw/one.ipynb", ags="1"))
    assert 'id="hand-in"' in page.text
    project = project_of(lti, "stu-1")
    lti.gw.cocalc.write_text_file_to_project(project, "hw/one.ipynb", '{"cells": []}')
    refused = agent.http.post(page.url + "/hand-in", headers={"Accept": "application/json"})
    assert refused.status_code == 403  # not from the notebook's own page
    reply = agent.http.post(page.url + "/hand-in", headers=SAME_ORIGIN)
    assert reply.status_code == 201, reply.text
    target = reply.json()["path"]
    assert target.startswith("hand-in/") and target.endswith("/hw/one.ipynb")
    assert lti.sim.project(project)["files"][target] == '{"cells": []}'
    [score] = lti.lms.scores
    assert score["userId"] == "stu-1"
    assert score["activityProgress"] == "Submitted"
    assert score["gradingProgress"] == "PendingManual"
    assert "scoreGiven" not in score
    again = agent.http.post(page.url + "/hand-in", headers=SAME_ORIGIN)
    assert again.status_code == 503  # a double click hands in once
    tokens = lti.lms.token_requests
    assert tokens == 1


def test_a_launch_without_grades_offers_no_hand_in(lti, agent):
    page = agent.open(lti.course_launch(user="stu-1", path="a.ipynb"))
    assert 'id="hand-in"' not in page.text
    reply = agent.http.post(page.url + "/hand-in", headers=SAME_ORIGIN)
    assert reply.status_code == 404


def test_roster_sync_provisions_the_course_before_anyone_clicks(lti, agent):
    members = [
        {
            "user_id": "prof",
            "roles": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"],
            "given_name": "Grace",
            "family_name": "Hopper",
            "email": "grace@example.edu",
        },
        {"user_id": "s1", "roles": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"]},
        {
            "user_id": "s2",
            "roles": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"],
            "name": "Alan Turing",
        },
        {"user_id": "gone", "roles": [], "status": "Inactive"},
    ]
    lti.lms.members["course-1"] = members
    runner = lti.app.test_cli_runner()
    before = runner.invoke(
        args=["lti", "roster", "sync", "--platform", lti.platform.id, "--context", "course-1"]
    )
    assert before.exit_code != 0 and "launch the tool once" in before.output
    assert "/embed/" in agent.open(lti.course_launch(user="s1", nrps="1")).url
    result = runner.invoke(
        args=["lti", "roster", "sync", "--platform", lti.platform.id, "--context", "course-1"]
    )
    assert result.exit_code == 0, result.output
    summary = __import__("json").loads(result.output[result.output.index("{") :])
    assert (summary["created"], summary["skipped"], summary["failed"]) == (2, 1, 0)
    concurrency.wait_idle()
    for learner in ("s1", "s2"):
        assert account_of(lti, "prof") in lti.sim.project(project_of(lti, learner))["collaborators"]
    assert account_of(lti, "gone") is None
    with lti.gw.db.read() as session:
        turing = session.scalar(
            select(HostUser).where(HostUser.external_id == identity.user_id(lti.lms.issuer, "s2"))
        )
    assert (turing.first_name, turing.last_name) == ("Alan", "Turing")


def test_tool_keys_rotate_without_downtime(lti, agent):
    runner = lti.app.test_cli_runner()
    first = tool_keys.current(lti.gw).signing.kid
    rotated = runner.invoke(args=["lti", "keys", "rotate"])
    assert rotated.exit_code == 0, rotated.output
    published = agent.http.get(lti.url + "/lti/jwks").json()["keys"]
    assert [k["kid"] for k in published][1] == first and len(published) == 2
    assert all(k["alg"] == "RS256" and "d" not in k for k in published)
    newest = published[0]["kid"]
    # The new key signs the service assertion; the LMS fetches our key set again and accepts.
    page = agent.open(lti.course_launch(user="stu-1", path="a.ipynb", ags="1"))
    lti.gw.cocalc.write_text_file_to_project(project_of(lti, "stu-1"), "a.ipynb", "x")
    assert agent.http.post(page.url + "/hand-in", headers=SAME_ORIGIN).status_code == 201
    refused = runner.invoke(args=["lti", "keys", "remove", newest])
    assert refused.exit_code != 0 and "rotate" in refused.output
    removed = runner.invoke(args=["lti", "keys", "remove", first])
    assert removed.exit_code == 0
    assert [k["kid"] for k in agent.http.get(lti.url + "/lti/jwks").json()["keys"]] == [newest]
    with lti.gw.db.read() as session:
        stored = session.scalar(select(tool_keys.LtiToolKey.private_key_encrypted))
    assert "PRIVATE KEY" not in stored


def test_dynamic_registration_registers_the_platform(lti, agent):
    runner = lti.app.test_cli_runner()
    made = runner.invoke(args=["lti", "platforms", "register-url", "--host", lti.host.id])
    url = __import__("json").loads(made.output)["url"]
    config = lti.lms.url + "/.well-known/openid-configuration"
    params = {"openid_configuration": config, "registration_token": lti.lms.registration_token}
    page = agent.http.get(url, params=params)
    assert page.status_code == 200 and "Register" in page.text
    fields = dict(re.findall(r'<input type="hidden" name="([^"]*)" value="([^"]*)">', page.text))
    done = agent.http.post(lti.url + "/lti/register", data=fields)
    assert done.status_code == 200, done.text
    assert "lti-close.js" in done.text
    [registered] = lti.lms.registrations
    tool = registered["tool"]
    assert tool["initiate_login_uri"] == lti.url + "/lti/login"
    assert tool["redirect_uris"] == [lti.url + "/lti/launch"]
    assert tool["jwks_uri"] == lti.url + "/lti/jwks"
    assert tool["token_endpoint_auth_method"] == "private_key_jwt"
    with lti.gw.db.read() as session:
        platform = session.scalar(
            select(LtiPlatform).where(LtiPlatform.client_id == registered["client_id"])
        )
    assert platform.host_id == lti.host.id and platform.deployment_ids
    assert platform.login_url == lti.lms.url + "/auth"
    assert agent.http.post(lti.url + "/lti/register", data=fields).status_code == 410
    forged = {**fields, "code": "x" * 43}
    assert agent.http.get(lti.url + "/lti/register", params=forged).status_code == 410


def test_the_configuration_documents(lti, agent):
    config = agent.http.get(lti.url + "/lti/config.json").json()
    assert config["oidc_initiation_url"] == lti.url + "/lti/login"
    assert config["target_link_uri"] == lti.url + "/lti/launch"
    assert config["public_jwk_url"] == lti.url + "/lti/jwks"
    jwks = agent.http.get(lti.url + "/lti/jwks")
    assert jwks.json()["keys"][0]["kty"] == "RSA"
    assert uuid  # (imported for ids above)


def test_the_canvas_configuration_passes_canvas_s_schema_with_its_placements(lti, agent):
    """Canvas's schema (restated from its source in tests/data): required fields, known
    placements and message types, scopes Canvas grants, a privacy level that sends names."""
    import json
    from pathlib import Path

    import jsonschema

    schema_file = Path(__file__).parents[2] / "data" / "canvas-tool-configuration.schema.json"
    schema = json.loads(schema_file.read_text())
    config = agent.http.get(lti.url + "/lti/config.json").json()
    jsonschema.validate(config, schema)
    [canvas] = config["extensions"]
    assert canvas["privacy_level"] == "public"
    placements = {p["placement"]: p for p in canvas["settings"]["placements"]}
    assert placements["assignment_selection"]["message_type"] == "LtiDeepLinkingRequest"
    assert placements["link_selection"]["message_type"] == "LtiDeepLinkingRequest"
    assert placements["course_navigation"]["message_type"] == "LtiResourceLinkRequest"
    broken = {**config, "extensions": [{**canvas, "privacy_level": "everything"}]}
    with pytest.raises(jsonschema.ValidationError):  # the schema is a real check
        jsonschema.validate(broken, schema)


def _register_url(lti, *extra) -> str:
    made = lti.app.test_cli_runner().invoke(
        args=["lti", "platforms", "register-url", "--host", lti.host.id, *extra]
    )
    return __import__("json").loads(made.output)["url"]


@pytest.fixture
def counting_server():
    """A server that counts what it is asked for (a stranger's URLs)."""
    from flask import Flask

    from gateway.dev.devserver import ThreadedServer

    app = Flask("stranger")
    app.config["HITS"] = []

    @app.get("/<path:anything>")
    def anything(anything):
        app.config["HITS"].append(anything)
        return {"hello": "world"}

    server = ThreadedServer(app).start()
    yield server, app.config["HITS"]
    server.stop()


def test_a_registration_code_fetches_one_url_a_few_times_at_most(lti, agent, counting_server):
    server, hits = counting_server
    url = _register_url(lti)
    for n in range(5):  # five different URLs with one code: only the first is ever fetched
        reply = agent.http.get(url, params={"openid_configuration": f"{server.url}/c{n}"})
        assert reply.status_code == (502 if n == 0 else 410), reply.text
    assert hits == ["c0"]
    for _ in range(4):  # the same URL: attempts 2 to 5 fetch, the sixth does not
        agent.http.get(url, params={"openid_configuration": f"{server.url}/c0"})
    assert hits == ["c0"] * 5
    assert (
        agent.http.get(url, params={"openid_configuration": f"{server.url}/c0"}).status_code == 410
    )
    assert hits == ["c0"] * 5


def test_a_registration_code_lives_hours(lti):
    from datetime import timedelta

    from gateway.store.models import Exchange, utcnow

    _register_url(lti)
    _register_url(lti, "--hours", "48")
    with lti.gw.db.read() as session:
        ends = sorted(session.scalars(select(Exchange.expires_at)).all())
    assert ends[0] - utcnow() <= timedelta(hours=2)
    assert ends[1] - utcnow() <= timedelta(hours=48)
    assert (
        lti.app.test_cli_runner()
        .invoke(args=["lti", "platforms", "register-url", "--host", lti.host.id, "--hours", "49"])
        .exit_code
        != 0
    )
