"""Users who leave and come back, users erased for good, one address under two hosts,
profile changes: the lifecycle on SQLite and PostgreSQL, against both dialects."""

from __future__ import annotations

import uuid

import pytest
import requests
from sqlalchemy import select

from gateway import hosts, provisioning
from gateway.errors import NotFound
from gateway.provisioning import UserProfile, lifecycle
from gateway.store.models import HostUser
from gateway.support import concurrency
from gateway.web import current
from tests.conftest import make_app
from tests.launching import mint


@pytest.fixture
def pgw(sim, database_url):
    app = make_app(sim, database_url)
    app.gw = app.extensions["gateway"]
    yield app
    concurrency.wait_idle()
    current.close(app)


def new_host(gw, name="Course"):
    host, secret = hosts.add(gw, name, ["https://lms.example.edu"])
    host.secret = secret
    return host


def test_a_deprovisioned_user_comes_back_to_the_same_account(pgw, sim):
    gw, client = pgw.gw, pgw.test_client()
    host = new_host(gw)
    first = client.post("/launch", data={"token": mint(host.id, host.secret, sub="leaver")})
    page = first.headers["Location"].removeprefix("http://127.0.0.1")
    ready = provisioning.find_ready(gw, host, UserProfile("leaver"), "", with_token=False)
    account, project = ready[0].account_id, ready[0].project_id
    lifecycle.deprovision(gw, host.id, "leaver")
    assert account not in sim.project(project)["collaborators"]
    gone = client.get(page)
    assert gone.status_code == 410 and "removed" in gone.get_data(as_text=True)
    again = client.post("/launch", data={"token": mint(host.id, host.secret, sub="leaver")})
    assert again.status_code == 303
    back = provisioning.find_ready(gw, host, UserProfile("leaver"), "", with_token=False)[0]
    assert (back.account_id, back.project_id) == (account, project)
    assert account in sim.project(project)["collaborators"]


def test_a_removed_host_comes_back_with_its_users(pgw):
    gw, client = pgw.gw, pgw.test_client()
    host = new_host(gw)
    assert (
        client.post("/launch", data={"token": mint(host.id, host.secret, sub="u")}).status_code
        == 303
    )
    ready = provisioning.find_ready(gw, host, UserProfile("u"), "", with_token=False)[0]
    hosts.remove(gw, host.id)
    refused = client.post("/launch", data={"token": mint(host.id, host.secret, sub="u")})
    assert refused.status_code == 401
    with pytest.raises(NotFound):
        hosts.get(gw, host.id, fresh=True)
    secret = hosts.restore(gw, host.id)
    assert client.post("/launch", data={"token": mint(host.id, secret, sub="u")}).status_code == 303
    restored = hosts.get(gw, host.id, fresh=True)
    back = provisioning.find_ready(gw, restored, UserProfile("u"), "", with_token=False)[0]
    assert back.account_id == ready.account_id


def test_erasing_a_user_deletes_their_account_and_projects(pgw, sim):
    gw = pgw.gw
    host = new_host(gw)
    made = provisioning.provision(gw, host, UserProfile("erase-me"))
    concurrency.wait_idle()  # the sign-up's first project was stopped meanwhile
    for project_id in sim.account(made.account_id)["projects"]:
        sim.control(f"projects/{project_id}/start")  # the user started it again, say
    result = lifecycle.erase(gw, host.id, "erase-me")
    assert result["forgotten"] is True
    account = requests.get(f"{sim.url}/_sim/accounts/{made.account_id}", timeout=5)
    if sim.dialect == "v1":
        # The v1-era hub does not serve delete_account over HTTP (section 7d): the account
        # stays, and the result says so plainly; its project is stopped and marked deleted.
        assert account.status_code == 200 and account.json()["deleted"] is False
        [kept] = result["kept_in_cocalc"]
        assert made.account_id in kept and "stays in CoCalc" in kept
        assert not sim.project(made.project_id)["running"]
    else:  # marked deleted and its e-mail cleared, as the real server does
        assert result["kept_in_cocalc"] == []
        assert account.json()["deleted"] is True and account.json()["email_address"] == ""
        for project_id in account.json()["projects"]:  # "My First Project": not left running
            assert sim.project(project_id)["deleted"] and not sim.project(project_id)["running"]
    assert sim.project(made.project_id)["deleted"] is True
    with gw.db.begin() as session:
        assert session.scalar(select(HostUser).where(HostUser.external_id == "erase-me")) is None


def test_one_address_under_two_hosts_gives_two_accounts_and_tells_nothing(pgw):
    gw, client = pgw.gw, pgw.test_client()
    email = f"shared-{uuid.uuid4().hex[:6]}@example.edu"
    accounts = set()
    for name in ("Physics", "Chemistry"):
        host = new_host(gw, name)
        reply = client.post(
            "/api/v1/launches",
            json={"user": {"id": "same-person", "email": email}},
            headers={"Authorization": f"Bearer {host.secret}"},
        )
        assert reply.status_code == 201, reply.get_json()
        accounts.add(reply.get_json()["account_id"])
    assert len(accounts) == 2  # an account belongs to one (host, user id)


def test_a_new_name_or_address_updates_the_row_and_the_account(pgw, sim):
    gw = pgw.gw
    host = new_host(gw)
    made = provisioning.provision(gw, host, UserProfile("renamed", "a@example.edu", "Ann", "Old"))
    again = provisioning.provision(gw, host, UserProfile("renamed", "b@example.edu", "Ann", "New"))
    concurrency.wait_idle()
    assert again.account_id == made.account_id
    with gw.db.begin() as session:
        row = session.get(HostUser, made.user_id)
        assert (row.email, row.first_name, row.last_name) == ("b@example.edu", "Ann", "New")
    name = sim.account(made.account_id)["last_name"]
    assert name == ("New" if sim.dialect == "current" else "Old")  # API v1 cannot rename
    unchanged = provisioning.provision(gw, host, UserProfile("renamed"))  # nothing sent
    assert not unchanged.did_work
