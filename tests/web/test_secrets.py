"""Crawl every route with good and bad input: no secret may appear in any response."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select

from gateway import hosts
from gateway.store.models import CachedToken, HostUser, Launch
from gateway.support import concurrency
from gateway.web import current
from tests.conftest import ADMIN_KEY, GATEWAY_SECRET, USER_KEY
from tests.launching import mint, unsigned

pytestmark = pytest.mark.both_dialects


def responses_for_every_route(app, client, host_id, secret, good_token_factory, sim):
    """Yield (description, response) for each route and a spread of inputs."""
    embed = client.post("/launch", data={"token": good_token_factory()}).headers["Location"]
    api = client.post(
        "/api/v1/launches",
        json={"user": {"id": "crawler"}},
        headers={"Authorization": f"Bearer {secret}"},
    ).get_json()
    handoff = api["url"].removeprefix("http://127.0.0.1")
    values = {
        "key": [embed.rsplit("/", 1)[1], handoff.rsplit("/", 1)[1], "nope", "x" * 300],
    }
    bodies = [
        {},
        {"token": good_token_factory()},
        {"token": unsigned(host_id)},
        {"token": "garbage"},
        {"token": mint(host_id, secret, path="../../etc")},
    ]
    headers = [
        {},
        {"Authorization": f"Bearer {secret}"},
        {"Authorization": "Bearer wrong"},
        {"Accept": "application/json"},
    ]
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        arguments = [
            dict(zip(rule.arguments, combo, strict=True))
            for combo in itertools.product(*(values.get(a, ["x"]) for a in rule.arguments))
        ]
        for args, method, body, header in itertools.product(
            arguments, sorted(rule.methods - {"HEAD", "OPTIONS"}), bodies, headers
        ):
            path = rule.build(args)[1] if rule.arguments else rule.rule
            kwargs = {"headers": header}
            if method == "POST":
                kwargs["data" if "token" in body else "json"] = body or {"user": {"id": "c"}}
            else:
                kwargs["query_string"] = body
            yield f"{method} {path}", client.open(path, method=method, **kwargs)
    # CoCalc failing in every way while launching
    for mode in ("html502", "error", "timeout", "drop", "garbage"):
        sim.fault(sim.endpoint("create_project", "projects.createProject"), mode)
        yield f"fault {mode}", client.post("/launch", data={"token": good_token_factory()})
        sim.reset()
    yield "embed", client.get(embed)
    yield "handoff", client.get(handoff)


def test_no_secret_in_any_response(sim, sqlite_url):
    from tests.conftest import make_app

    app = make_app(sim, sqlite_url, COCALC_TIMEOUT=0.5, COCALC_RETRIES=0)
    gw = app.extensions["gateway"]
    host, secret = hosts.add(gw, "Course", ["https://lms.example.edu"])
    client = app.test_client()
    counter = itertools.count()

    def good_token():
        return mint(host.id, secret, sub=f"crawler-{next(counter) % 3}")

    seen = list(responses_for_every_route(app, client, host.id, secret, good_token, sim))
    concurrency.wait_idle()
    with gw.db.begin() as session:
        passwords = [
            gw.box.decrypt(u.password_encrypted) for u in session.scalars(select(HostUser))
        ]
        auth_tokens = {
            gw.box.decrypt(t.token_encrypted) for t in session.scalars(select(CachedToken))
        }
        auth_tokens |= {
            gw.box.decrypt(row.token_encrypted)
            for row in session.scalars(select(Launch).where(Launch.token_encrypted.is_not(None)))
        }
    assert len(seen) > 100 and passwords and auth_tokens
    never = [ADMIN_KEY, USER_KEY, GATEWAY_SECRET, secret, *passwords]
    for description, response in seen:
        text = response.get_data(as_text=True) + str(response.headers)
        assert response.status_code < 500 or response.status_code in (502, 503, 504), description
        assert "Traceback" not in text, description
        for value in never:
            assert value not in text, f"a secret leaked in {description}"
        if description != "embed" and not description.startswith("GET /embed/"):
            for token in auth_tokens:
                assert token not in text, f"an auth token leaked in {description}"
    current.close(app)


@pytest.mark.parametrize("path", ["/launch", "/embed/x", "/api/v1/launches", "/metrics"])
def test_unexpected_methods_are_clean(client, path):
    reply = client.delete(path)
    assert reply.status_code in (403, 404, 405)
    assert "Traceback" not in reply.get_data(as_text=True)
