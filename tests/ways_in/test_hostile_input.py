"""Hostile input is normal input: every token and body gets a clear 4xx, never a 5xx.

Property tests (Hypothesis) drive the token and API parsers with arbitrary claims and
bodies; the regressions pin what once gave HTTP 500: NUL bytes and lone UTF-16 surrogates
(valid JSON escapes such as "\\ud800") in claims and bodies, and very deep JSON nesting,
one of them before the signature was checked.
"""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.errors import GatewayError
from gateway.provisioning import validate
from gateway.store.models import HostUser
from gateway.ways_in import api, token
from tests.launching import claims, rows

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
HOSTILE_TEXT = st.text(alphabet=st.characters(codec=None), max_size=40) | st.sampled_from(
    ["\x00", "a\x00b", "\ud800", "x\udfff", "\u202e", "\u00a0x", "x\u3000", " x", "\u2028"]
)
PROPERTIES = settings(
    max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), database=None
)


def raw_token(header: dict, payload_text: str, signature: str = "c2ln") -> str:
    def part(text: str) -> str:
        return base64.urlsafe_b64encode(text.encode("utf-8", "surrogatepass")).rstrip(b"=").decode()

    return f"{part(json.dumps(header))}.{part(payload_text)}.{signature}"


def signed(host, secret, payload: dict) -> str:
    """Sign any claims, lone surrogates included (as JSON escapes, as a host could)."""
    return _sign_raw(secret, {"alg": "HS256", "typ": "JWT"}, json.dumps(payload))


def refused_cleanly(fn, *args) -> bool:
    try:
        fn(*args)
    except GatewayError as exc:
        return 400 <= exc.status < 500
    return True


@PROPERTIES
@given(text=st.text(max_size=300) | st.binary(max_size=300).map(lambda b: b.hex()))
def test_any_string_as_a_token_is_refused_cleanly(gw, text):
    assert refused_cleanly(token.read_token, gw, text)


@PROPERTIES
@given(extra=st.dictionaries(st.sampled_from(list(claims("x"))) | st.text(), JSON, max_size=6))
def test_any_signed_claims_are_read_or_refused_cleanly(gw, host, extra):
    payload = {**claims(host.id), **extra, "iss": host.id}
    assert refused_cleanly(token.read_token, gw, signed(host, host.secret, payload))


@PROPERTIES
@given(
    field=st.sampled_from(["sub", "jti", "path", "context", "given_name", "family_name", "email"]),
    value=HOSTILE_TEXT,
)
def test_hostile_text_in_any_claim_is_refused_or_kept_exact(gw, host, field, value):
    payload = {**claims(host.id), field: value}
    try:
        launch = token.read_token(gw, signed(host, host.secret, payload))
    except GatewayError as exc:
        assert 400 <= exc.status < 500
        return
    if field == "sub":
        assert launch.profile.external_id == value  # kept exactly as the host sent it


@PROPERTIES
@given(body=JSON)
def test_any_api_body_is_read_or_refused_cleanly(host, body):
    def read(b):
        request = api.read_api_request(host, b)
        validate(request.profile, request.context)

    assert refused_cleanly(read, body)


@PROPERTIES
@given(user=st.dictionaries(st.sampled_from(["id", "email", "first_name", "last_name"]), JSON))
def test_any_user_object_is_read_or_refused_cleanly(host, user):
    def read(b):
        request = api.read_api_request(host, b)
        validate(request.profile, request.context)

    assert refused_cleanly(read, {"user": user, "path": "a.md"})


# -- the regressions, end to end through HTTP ----------------------------------------------------
@pytest.mark.parametrize(
    "escape", ["\\u0000", "\\ud800", "\\udfff", "a\\u0000b", "\\ud83d"], ids=lambda e: e
)
@pytest.mark.parametrize("field", ["sub", "jti", "iss", "path", "context", "given_name"])
def test_nul_and_lone_surrogates_in_claims_are_a_4xx(client, host, gw, field, escape):
    payload = json.dumps({**claims(host.id), field: "PLACEHOLDER"}).replace("PLACEHOLDER", escape)
    header = {"alg": "HS256", "typ": "JWT"}
    unsigned_token = raw_token(header, payload)
    for candidate in (unsigned_token, _sign_raw(host.secret, header, payload)):
        reply = client.post("/launch", data={"token": candidate})
        assert 400 <= reply.status_code < 500, (field, escape, reply.status_code)
    assert rows(gw, HostUser) == 0


def _sign_raw(secret: str, header: dict, payload_text: str) -> str:
    import hashlib
    import hmac

    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing_input = (
        f"{part(json.dumps(header).encode())}.{part(payload_text.encode('utf-8', 'surrogatepass'))}"
    )
    mac = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{part(mac)}"


@pytest.mark.parametrize("where", ["payload", "header"])
def test_deeply_nested_token_json_is_a_4xx_before_the_signature(client, host, where):
    deep = "[" * 5000 + "]" * 5000
    header, payload = '{"alg":"HS256"}', json.dumps(claims(host.id))
    if where == "payload":
        payload = payload[:-1] + f', "deep": {deep}}}'
    else:
        header = header[:-1] + f', "deep": {deep}}}'

    def part(text: str) -> str:
        return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()

    reply = client.post("/launch", data={"token": f"{part(header)}.{part(payload)}.c2ln"})
    assert reply.status_code in (400, 401)


@pytest.mark.parametrize(
    "body",
    [
        '{"user": {"id": "\\u0000"}}',
        '{"user": {"id": "a\\ud800"}}',
        '{"user": {"id": "ok", "first_name": "\\udfff"}}',
        '{"user": {"id": "ok"}, "path": "a\\ud800.md"}',
        '{"user": {"id": "ok"}, "context": "\\u0000"}',
        '{"user": {"id": "ok", "email": "a\\u0000@b.org"}}',
        "[" * 10000 + "]" * 10000,
        '{"user": ' + "{" * 3000 + "}" * 3000 + "}",
    ],
    ids=[
        "nul-id",
        "surrogate-id",
        "surrogate-name",
        "surrogate-path",
        "nul-context",
        "nul-email",
        "deep-list",
        "deep-object",
    ],
)
def test_hostile_api_bodies_are_a_4xx(client, host, gw, sim, body):
    reply = client.post(
        "/api/v1/launches",
        data=body,
        headers={"Authorization": f"Bearer {host.secret}", "Content-Type": "application/json"},
    )
    assert reply.status_code == 400, reply.get_data(as_text=True)
    assert reply.get_json()["error"]["message"]
    assert sim.total_calls() == 0


@pytest.mark.parametrize(
    "external_id",
    ["X", "X ", "\u00a0X", "X\u3000", "X\u2028", "X\u0085", "X\u200b", "\tX"],
    ids=repr,
)
def test_ids_that_could_merge_with_another_are_refused_not_stripped(
    client, host, gw, sim, external_id
):
    """Distinct host ids never share an account: ids are exact, invisible edges refused."""
    reply = client.post(
        "/api/v1/launches",
        json={"user": {"id": external_id}},
        headers={"Authorization": f"Bearer {host.secret}"},
    )
    if external_id == "X":
        assert reply.status_code == 201
    else:
        assert reply.status_code == 400 and reply.get_json()["error"]["field"] == "user id"


def test_distinct_contexts_never_share_a_project(client, host):
    made = set()
    for context in ("course", "Course", "course ", "cours\u0065"):
        reply = client.post(
            "/api/v1/launches",
            json={"user": {"id": "u1"}, "context": context},
            headers={"Authorization": f"Bearer {host.secret}"},
        )
        if context.endswith(" "):
            assert reply.status_code == 400
        else:
            made.add((context, reply.get_json()["project_id"]))
    assert len({project for _, project in made}) == len({context for context, _ in made})
