"""Hosts: secrets, caches, rotation seen across processes."""

from __future__ import annotations

import pytest

from gateway import hosts
from gateway.errors import BadRequest, NotFound
from tests.launching import mint


def test_a_secret_rotated_elsewhere_works_at_once_here(app, gw, sim):
    """Another process rotates the secret: this process's host cache must not refuse it."""
    from sqlalchemy import update as sql_update

    from gateway.store.models import Host

    host, old = hosts.add(gw, "LMS", [])
    client = app.test_client()
    assert client.post("/launch", data={"token": mint(host.id, old)}).status_code == 303
    new = "hs_" + "n" * 43  # what `hosts rotate-secret` in another process would store
    with gw.db.begin() as session:
        session.execute(
            sql_update(Host)
            .where(Host.id == host.id)
            .values(secret_encrypted=gw.box.encrypt(new), secret_digest=hosts.digest(new))
        )
    assert client.post("/launch", data={"token": mint(host.id, new)}).status_code == 303
    reply = client.post(
        "/api/v1/launches", json={"user": {"id": "r"}}, headers={"Authorization": f"Bearer {new}"}
    )
    assert reply.status_code == 201


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("https://lms.example.edu", "https://lms.example.edu"),
        ("https://LMS.example.edu/", "https://lms.example.edu"),
        ("https://lms.example.edu:443", "https://lms.example.edu"),
        ("http://lms.example.edu:80", "http://lms.example.edu"),
        ("https://lms.example.edu:8443", "https://lms.example.edu:8443"),
        ("http://127.0.0.1:5000", "http://127.0.0.1:5000"),
        ("https://bücher.example", "https://xn--bcher-kva.example"),
        ("http://[::1]:8080", "http://[::1]:8080"),
    ],
)
def test_origins_are_stored_as_browsers_send_them(gw, given, stored):
    host, _ = hosts.add(gw, "LMS", [given])
    assert host.origins == [stored]


@pytest.mark.parametrize(
    "origin",
    [
        "http://x *",
        "https://*.x",
        ";script-src *",
        "https://x.org; script-src *",
        "https://x.org/path",
        "https://user@x.org",
        "https://x.org?a=1",
        "ftp://x.org",
        "https://",
        "https://-x.org",
        "https://x.org:0",
        "https://x.org:70000",
        "javascript:alert(1)",
        "'self'",
        "*",
    ],
)
def test_anything_else_is_refused(gw, origin):
    with pytest.raises(BadRequest, match="not an origin"):
        hosts.add(gw, "LMS", [origin])


def test_host_ids_of_another_shape_are_never_looked_up(gw, monkeypatch):
    looked_up = []
    monkeypatch.setattr(
        gw.db, "read", lambda: looked_up.append(1) or (_ for _ in ()).throw(AssertionError)
    )
    for host_id in ("host_x", "host_" + "0" * 16 + "\x00", "", "'; drop table hosts; --"):
        with pytest.raises(NotFound):
            hosts.get(gw, host_id)
    assert not looked_up
