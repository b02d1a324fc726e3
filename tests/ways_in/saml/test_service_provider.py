"""The gateway as a service provider, as an IdP and a federation operator see it: its signed
metadata at the address its entity ID names, signed requests where an IdP wants them, key
rotation, single logout both ways, the discovery page, metadata by MDQ from a federation,
``doctor``'s findings per IdP, and the ``saml`` commands."""

from __future__ import annotations

import json
import re
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from saml2.sigver import CryptoBackendXmlSec1
from sqlalchemy import func, select, update

from gateway.errors import GatewayError
from gateway.operator import saml_checks
from gateway.store.models import utcnow
from gateway.store.saml_tables import SamlIdp, SamlSpKey
from gateway.store.sso_tables import SsoSession
from gateway.ways_in.saml import idps, logout, sp_keys, xml_guard
from gateway.ways_in.saml.metadata import MD
from gateway.ways_in.saml.xml_guard import Refused
from tests.ways_in.lti.conftest import Agent
from tests.ways_in.saml.idp_peers import XMLSEC
from tests.ways_in.saml.mdq import Federation, MdqServer

SIGNING = "urn:oasis:names:tc:SAML:2.0:metadata"


def sessions_of(stack, host) -> int:
    """The host's live sessions."""
    with stack.gw.db.read() as session:
        return session.scalar(
            select(func.count())
            .select_from(SsoSession)
            .where(SsoSession.host_id == host.id, SsoSession.ended_at.is_(None))
        )


def signed_in(stack, host, peer, user="alice", path=""):
    """A browser signed in at ``peer`` (samlify): the notebook page's response."""
    agent = Agent()
    peer.choose(user)
    page = agent.open(stack.login_url(host, path))
    assert page.status_code == 200 and "/sso/" in page.url, page.text[:2000]
    return agent, page


# -- its metadata -------------------------------------------------------------------------


def test_the_metadata_is_signed_at_its_entity_id_and_offers_only_what_is_accepted(stack):
    host = stack.host()
    urls = stack.endpoints(host)
    reply = requests.get(urls.entity_id, timeout=10)
    assert reply.status_code == 200
    assert reply.headers["Content-Type"].startswith("application/samlmetadata+xml")
    root = xml_guard.parse(reply.content, limit=xml_guard.MAX_METADATA_BYTES)
    assert root.get("entityID") == urls.entity_id
    [descriptor] = root.findall(f"{{{MD}}}SPSSODescriptor")
    [acs] = descriptor.findall(f"{{{MD}}}AssertionConsumerService")
    assert (acs.get("Binding"), acs.get("Location")) == (
        "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST",
        urls.acs,
    )
    [slo] = descriptor.findall(f"{{{MD}}}SingleLogoutService")
    assert slo.get("Location") == urls.slo
    uses = sorted(k.get("use") for k in descriptor.findall(f"{{{MD}}}KeyDescriptor"))
    assert uses == ["encryption", "signing"]
    algorithms = [
        e.get("Algorithm")
        for e in root.iter()
        if xml_guard.local(e.tag) in ("SigningMethod", "DigestMethod") and e.get("Algorithm")
    ]
    assert algorithms and all(
        a in xml_guard.SIGNATURE_METHODS | xml_guard.DIGEST_METHODS for a in algorithms
    )
    # The signature checks out (xmlsec1) against the SP's own signing certificate.
    signature = xml_guard.signatures(root, frozenset({f"{{{MD}}}EntityDescriptor"}))
    assert id(root) in signature
    with tempfile.NamedTemporaryFile("w", suffix=".pem") as certificate:
        certificate.write(sp_keys.current(stack.gw).signing.certificate_pem)
        certificate.flush()
        assert CryptoBackendXmlSec1(XMLSEC).validate_signature(
            reply.content, certificate.name, "pem", SIGNING + ":EntityDescriptor", root.get("ID")
        )
    assert requests.get(urls.entity_id.replace(host.id, "host_0000"), timeout=10).status_code == 404


def test_the_served_paths_are_the_ones_the_metadata_names(stack):
    """``sp.endpoints`` is a contract with every IdP that registered it."""
    rules = {r.endpoint: r.rule for r in stack.app.url_map.iter_rules()}
    urls = stack.endpoints(stack.host())
    for endpoint, url in (("saml.metadata", urls.entity_id), ("saml.acs", urls.acs)):
        assert re.fullmatch(
            rules[endpoint].replace("<host_id>", r"host_\w+"), urlsplit(url).path
        ), (endpoint, url)
    assert re.fullmatch(
        rules["saml.single_logout"].replace("<host_id>", r"host_\w+"), urlsplit(urls.slo).path
    )


def _signed_by(document: str, key) -> bool:
    root = xml_guard.parse(document.encode(), limit=xml_guard.MAX_METADATA_BYTES)
    with tempfile.NamedTemporaryFile("w", suffix=".pem") as certificate:
        certificate.write(key.certificate_pem)
        certificate.flush()
        try:
            return CryptoBackendXmlSec1(XMLSEC).validate_signature(
                document.encode(), certificate.name, "pem", SIGNING + ":EntityDescriptor",
                root.get("ID"),
            )  # fmt: skip
        except Exception:
            return False


def test_a_rotated_key_is_published_at_once_and_signs_a_day_later(stack):
    """IdPs that verify signed requests fetch the new metadata before the new key signs;
    the old key keeps decrypting until it is removed."""
    host = stack.host()
    peer = stack.peer()
    stack.add(host, source="url", location=peer.metadata_url)
    old = sp_keys.current(stack.gw).signing
    new = sp_keys.rotate(stack.gw)
    keys = sp_keys.current(stack.gw)
    assert keys.signing.kid == old.kid and {k.kid for k in keys.published} >= {old.kid, new}
    fresh = next(k for k in keys.published if k.kid == new)
    document = requests.get(stack.endpoints(host).entity_id, timeout=10).text
    assert fresh.certificate_base64 in document and _signed_by(document, old)
    signed_in(stack, host, peer)  # samlify fetched the metadata now: it encrypts to old
    with pytest.raises(GatewayError, match="signs now"):
        sp_keys.remove(stack.gw, old.kid)
    # A day later the new key signs (the metadata too), and the old one still decrypts.
    with stack.gw.db.begin() as session:
        session.execute(
            update(SamlSpKey)
            .where(SamlSpKey.kid == new)
            .values(signs_from=datetime.now(UTC) - timedelta(minutes=1))
        )
    sp_keys.forget_cached(stack.gw)
    assert sp_keys.current(stack.gw).signing.kid == new
    document = requests.get(stack.endpoints(host).entity_id, timeout=10).text
    assert _signed_by(document, fresh) and not _signed_by(document, old)
    signed_in(stack, host, peer)  # samlify still encrypts to the old key: decrypted
    listed = {k["kid"]: k for k in sp_keys.describe_all(stack.gw)}
    assert listed[new]["signing"] and not listed[old.kid]["signing"]
    sp_keys.remove(stack.gw, old.kid)
    later = stack.host()  # an IdP that reads the metadata now encrypts to the new key
    stack.add(later, source="url", location=peer.metadata_url)
    signed_in(stack, later, peer)
    assert (
        old.certificate_base64
        not in requests.get(stack.endpoints(later).entity_id, timeout=10).text
    )


def test_a_leaked_key_is_replaced_at_once(stack):
    old = sp_keys.current(stack.gw).signing
    new = sp_keys.rotate(stack.gw, at_once=True)
    assert sp_keys.current(stack.gw).signing.kid == new
    sp_keys.remove(stack.gw, old.kid)
    assert old.kid not in {k["kid"] for k in sp_keys.describe_all(stack.gw)}


def test_requests_are_signed_where_the_idp_wants_them(stack):
    host = stack.host()
    peer = stack.peer(want_signed_requests=True)
    stack.add(host, source="url", location=peer.metadata_url)
    agent = Agent()
    begun = agent.http.get(stack.login_url(host), allow_redirects=False, timeout=20)
    query = dict(parse_qsl(urlsplit(begun.headers["Location"]).query))
    assert query["SigAlg"] == "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
    # samlify verifies the signature: a tampered one is refused there, the real one taken.
    tampered = begun.headers["Location"].replace("Signature=", "Signature=AAAA", 1)
    peer.choose("alice")
    with pytest.raises(AssertionError, match="refused"):
        peer.respond(tampered)
    answer = peer.respond(begun.headers["Location"])
    page = agent.post(answer["action"], {k: answer[k] for k in ("SAMLResponse", "RelayState")})
    assert page.status_code == 200 and page.url.endswith("/notebooks"), page.url


# -- single logout --------------------------------------------------------------------------


def test_signing_out_here_signs_out_at_the_idp(stack):
    host = stack.host()
    peer = stack.peer()
    stack.add(host, source="url", location=peer.metadata_url)
    agent, _page = signed_in(stack, host, peer)
    assert sessions_of(stack, host) == 1
    leaving = agent.http.post(
        f"{stack.url}/sso/logout",
        data={"host": host.id},
        headers={"Origin": stack.url, "Sec-Fetch-Site": "same-origin"},
        allow_redirects=False,
        timeout=20,
    )
    assert leaving.status_code == 200, leaving.text[:2000]
    target = re.search(r'(http://127\.0\.0\.1:\d+/slo\?[^"]+)', leaving.text).group(1)
    target = target.replace("&amp;", "&")
    assert "Signature=" in target and "SigAlg=" in target
    assert sessions_of(stack, host) == 0  # ended before the IdP is asked
    at_idp = requests.get(target, timeout=10)
    assert at_idp.status_code == 200
    last = peer.state()["lastLogout"]
    assert last["kind"] == "request" and last["from"] == stack.endpoints(host).entity_id


def test_a_logout_at_the_idp_ends_the_session_here_and_an_unsigned_one_does_not(stack):
    host = stack.host()
    peer = stack.peer()
    stack.add(host, source="url", location=peer.metadata_url)
    signed_in(stack, host, peer)
    assert sessions_of(stack, host) == 1
    url = peer.logout_request("alice", stack.endpoints(host).entity_id)
    unsigned = re.sub(r"&(Signature|SigAlg)=[^&]*", "", url)
    refused = requests.get(unsigned, allow_redirects=False, timeout=10)
    assert refused.status_code == 400 and "must be signed" in refused.text
    assert sessions_of(stack, host) == 1
    answered = requests.get(url, allow_redirects=False, timeout=10)
    assert answered.status_code == 302
    assert answered.headers["Location"].startswith(peer.base + "/slo?SAMLResponse=")
    assert sessions_of(stack, host) == 0
    # The IdP takes the gateway's signed LogoutResponse.
    assert requests.get(answered.headers["Location"], timeout=10).status_code == 200
    assert peer.state()["lastLogout"]["kind"] == "response"


def test_attack_a_logout_request_url_replayed_ends_nothing(stack):
    """The IdP's signed LogoutRequest URL, pasted into a chat or kept in a history, opened
    again after the user signed in anew: refused, and the new session lives. A request is
    spent by its ID, and one issued too long ago or in the future is refused outright."""
    host = stack.host()
    peer = stack.peer()
    stack.add(host, source="url", location=peer.metadata_url)
    signed_in(stack, host, peer)
    url = peer.logout_request("alice", stack.endpoints(host).entity_id)
    assert requests.get(url, allow_redirects=False, timeout=10).status_code == 302
    assert sessions_of(stack, host) == 0
    signed_in(stack, host, peer)
    assert sessions_of(stack, host) == 1
    replayed = requests.get(url, allow_redirects=False, timeout=10)
    assert replayed.status_code == 400 and "used already" in replayed.text
    assert sessions_of(stack, host) == 1


@pytest.mark.parametrize(
    ("issued", "says"),
    [
        (timedelta(minutes=-10), "too old"),
        (timedelta(minutes=10), "from the future"),
        (None, "too old"),
    ],
)
def test_a_logout_request_issued_long_ago_or_in_the_future_is_refused(stack, issued, says):
    """Checked after its signature verified, before anything ends: the window is 5 minutes."""
    host = stack.host()
    peer = stack.peer()
    idp = stack.add(host, source="url", location=peer.metadata_url)
    when = None if issued is None else (utcnow() + issued).isoformat().replace("+00:00", "Z")
    message = SimpleNamespace(issue_instant=when, id="_req-1")
    with pytest.raises(Refused) as refused:
        logout._spend(stack.gw, host.id, idp, message)
    assert says in str(refused.value)


# -- discovery ------------------------------------------------------------------------------


def test_the_discovery_page_lists_the_hosts_idps_and_remembers_the_choice(stack):
    host = stack.host()
    first = stack.peer(name="Zeta University", scope="zeta.example.test")
    second = stack.peer(name="Alpha College", scope="alpha.example.test")
    for peer in (first, second):
        stack.add(host, source="url", location=peer.metadata_url)
    agent = Agent()
    page = agent.http.get(stack.login_url(host, "a.ipynb"), timeout=20)
    assert page.status_code == 200
    assert page.text.index("Alpha College") < page.text.index("Zeta University")
    assert 'lang="en"' in page.text and "<label" in page.text
    # The host's own link names the IdP: no page, straight there.
    chosen = agent.http.get(
        stack.login_url(host, "a.ipynb", idp=first.entity_id), allow_redirects=False
    )
    assert chosen.status_code == 302 and chosen.headers["Location"].startswith(first.base)
    assert any(c.name.startswith("__Host-saml_idp_") for c in agent.http.cookies)
    again = agent.http.get(stack.login_url(host), timeout=20)
    assert re.search(r'id="continue-remembered">Continue with Zeta University', again.text)
    unknown = agent.http.get(stack.login_url(host, idp="https://nobody.example.test/idp"))
    assert unknown.status_code == 404
    german = requests.get(stack.login_url(host) + "?ui_locales=de", timeout=20)
    assert 'lang="de"' in german.text


# -- federation metadata by MDQ -------------------------------------------------------------


@pytest.fixture
def mdq():
    server = MdqServer()
    yield server
    server.stop()


def test_an_idp_by_mdq_is_verified_against_the_federation_and_refreshed(stack, mdq):
    host = stack.host()
    peer = stack.peer(name="Federated University", scope="fed.example.test")
    federation = Federation()
    plain = requests.get(peer.metadata_url, timeout=10).text
    mdq.serve(peer.entity_id, federation.publish(plain, cache="PT1H"))
    idp = stack.add(
        host,
        source="mdq",
        location=mdq.base,
        entity_id=peer.entity_id,
        signer_pem=federation.certificate_pem,
    )
    assert mdq.requests == ["/mdq/entities/%7Bsha1%7D" + mdq.requests[0].rsplit("%7D", 1)[1]]
    assert idp.valid_until is not None
    refresh_in = idp.refresh_after.replace(tzinfo=UTC) - datetime.now(UTC)
    assert timedelta(minutes=50) < refresh_in <= timedelta(hours=1)
    signed_in(stack, host, peer)
    # A refresh that gets an unsigned document keeps the last good metadata and says why.
    mdq.serve(peer.entity_id, federation.publish(plain, signed=False))
    kept = idps.refresh(stack.gw, idp)
    assert kept.metadata_xml == idp.metadata_xml and "not signed" in kept.refresh_error
    findings = {f.name: f for f in saml_checks.identity_providers(stack.gw)}
    assert findings[f"saml_idp:{peer.entity_id}"].status == "warn"
    # A good one clears it.
    mdq.serve(peer.entity_id, federation.publish(plain))
    assert idps.refresh(stack.gw, idp).refresh_error is None


@pytest.mark.parametrize(
    ("publish", "reason"),
    [
        (lambda fed, xml: fed.publish(xml, signed=False), "not signed"),
        (lambda fed, xml: Federation("Another").publish(xml), "does not check out"),
        (lambda fed, xml: fed.publish(xml, valid_for=timedelta(hours=-1)), "has expired"),
    ],
    ids=["unsigned", "another-signer", "expired"],
)
def test_a_federation_document_that_does_not_hold_is_refused(stack, mdq, publish, reason):
    host = stack.host()
    peer = stack.peer(name="Federated University", scope="fed.example.test")
    federation = Federation()
    plain = requests.get(peer.metadata_url, timeout=10).text
    mdq.serve(peer.entity_id, publish(federation, plain))
    with pytest.raises(Exception) as refused:
        stack.add(
            host,
            source="mdq",
            location=mdq.base,
            entity_id=peer.entity_id,
            signer_pem=federation.certificate_pem,
        )
    assert reason in str(getattr(refused.value, "params", {}).get("reason", refused.value))
    assert idps.of_host(stack.gw, host.id) == []


# -- doctor -------------------------------------------------------------------------------


def test_doctor_reports_each_idp(stack):
    host = stack.host()
    peer = stack.peer()
    idp = stack.add(host, source="url", location=peer.metadata_url)
    name = f"saml_idp:{peer.entity_id}"
    found = {f.name: f for f in saml_checks.identity_providers(stack.gw)}
    assert found[name].status == "ok" and found[name].facts["host"] == host.id
    now = datetime.now(UTC)
    cases = [
        ({"valid_until": now - timedelta(minutes=1)}, "fail", "expired"),
        ({"valid_until": now + timedelta(hours=5)}, "warn", "expires at"),
        ({"clock_offset_s": 400.0}, "fail", "clock"),
        ({"clock_offset_s": 45.0}, "warn", "clock"),
        ({"refresh_after": now - timedelta(days=2)}, "warn", "housekeeping"),
    ]
    for values, status, words in cases:
        with stack.gw.db.begin() as session:
            session.execute(update(SamlIdp).where(SamlIdp.id == idp.id).values(**values))
        finding = {f.name: f for f in saml_checks.identity_providers(stack.gw)}[name]
        assert (finding.status, words in finding.detail) == (status, True), finding
        with stack.gw.db.begin() as session:
            session.execute(
                update(SamlIdp)
                .where(SamlIdp.id == idp.id)
                .values(valid_until=None, clock_offset_s=None, refresh_after=now)
            )
    keys = saml_checks.service_provider_keys(stack.gw)
    assert keys.status == "ok" and keys.facts["kept"] >= 1


# -- the commands ---------------------------------------------------------------------------


def test_the_saml_commands(stack):
    host = stack.host()
    peer = stack.peer()
    runner = stack.app.test_cli_runner()
    plain = requests.get(peer.metadata_url, timeout=10).text
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "idp.xml"
        path.write_text(plain)
        added = runner.invoke(args=["saml", "add", "--host", host.id, "--metadata-file", str(path)])
        assert added.exit_code == 0, added.output
        idp = json.loads(added.output)
        assert idp["entity_id"] == peer.entity_id and idp["name"] == "Example University"
        twice = runner.invoke(args=["saml", "add", "--host", host.id, "--metadata-file", path])
        assert twice.exit_code == 1 and "already set up" in twice.output
        path.write_text(plain.replace("<IDPSSODescriptor", "<!-- x --><IDPSSODescriptor"))
        other = stack.host()
        bad = runner.invoke(args=["saml", "add", "--host", other.id, "--metadata-file", path])
        assert bad.exit_code == 1 and "comment" in bad.output and "Traceback" not in bad.output
    none = runner.invoke(args=["saml", "add", "--host", host.id])
    assert none.exit_code != 0
    listed = json.loads(runner.invoke(args=["saml", "list"]).output)
    assert idp["id"] in [i["id"] for i in listed]
    keys = json.loads(runner.invoke(args=["saml", "keys", "list"]).output)
    assert sum(k["signing"] for k in keys) == 1 and "private" not in json.dumps(keys)
    assert runner.invoke(args=["saml", "remove", idp["id"]]).exit_code == 0
    gone = runner.invoke(args=["saml", "remove", idp["id"]])
    assert gone.exit_code == 1
