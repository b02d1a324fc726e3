"""Hosts: secrets, caches, rotation seen across processes."""

from __future__ import annotations

from gateway import hosts
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
