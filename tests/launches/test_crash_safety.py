"""A worker killed at any point of a launch leaves no trace, or a state the same request
finishes: the process is really killed (``os._exit`` in a child process, no cleanup runs)
between the pipeline's steps, then the same launch token is tried again."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from gateway import hosts
from gateway.store.models import HostUser, Launch, Lock, UsedTokenId, UserProject, utcnow
from gateway.web import current
from tests.conftest import gateway_config, make_app
from tests.launching import launch, mint

ROOT = Path(__file__).resolve().parents[2]

#: A child process that launches once and is killed at ``point``.
CHILD = textwrap.dedent(
    """
    import json, os, sys
    from sqlalchemy import event
    from gateway import create_app
    from gateway.launches import pipeline
    from gateway.provisioning import accounts

    config, token, point = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3]
    app = create_app(config)

    def die(*_args, **_kwargs):
        os._exit(137)  # no finally, no rollback, no atexit: a killed worker

    if point == "account made":
        made = accounts.ensure_account
        accounts_made = lambda *a, **k: (made(*a, **k), die())[0]
        accounts.ensure_account = accounts_made
        import gateway.provisioning as provisioning
        provisioning.ensure_account = accounts_made
    elif point == "provisioned":
        pipeline.tokens.for_page = die
    elif point == "page being written":
        @event.listens_for(app.extensions["db"].engine, "before_cursor_execute")
        def before(conn, cursor, statement, *rest):
            if statement.lstrip().upper().startswith("INSERT INTO LAUNCHES"):
                die()
    reply = app.test_client().post("/launch", data={"token": token})
    print("survived", reply.status_code)
    """
)


@pytest.mark.parametrize("point", ["account made", "provisioned", "page being written"])
def test_a_worker_killed_during_a_launch_leaves_a_launch_that_can_be_retried(
    sim, database_url, point
):
    app = make_app(sim, database_url)
    gw = app.extensions["gateway"]
    host, secret = hosts.add(gw, "Course", ["https://lms.example.edu"])
    token = mint(host.id, secret, sub="killed")
    config = {k: v for k, v in gateway_config(sim, database_url).items() if k != "TESTING"}
    child = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(config), token, point],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert child.returncode == 137, child.stdout + child.stderr
    with gw.db.read() as session:  # nothing that claims the token, no page
        assert session.scalar(select(func.count()).select_from(Launch)) == 0
        assert session.scalar(select(func.count()).select_from(UsedTokenId)) == 0
    with gw.db.begin() as session:  # the killed worker's locks (SQLite's leases) run out
        session.execute(update(Lock).values(expires_at=utcnow()))
    retried = launch(app.test_client(), token)  # the same token, once more
    assert retried.status_code == 303, retried.get_data(as_text=True)
    with gw.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Launch)) == 1
        (user,) = session.scalars(select(HostUser)).all()
        (project,) = session.scalars(select(UserProject)).all()
    accounts = [a for a in sim.accounts() if a["email_address"] == user.cocalc_email]
    assert len(accounts) == 1 and user.account_id == accounts[0]["account_id"]
    made = [p for p in sim.projects() if project.creation_key in (p["description"] or "")]
    assert len(made) == 1 and project.project_id == made[0]["project_id"]
    assert launch(app.test_client(), token).status_code == 401  # and now it is spent
    current.close(app)
