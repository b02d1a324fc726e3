"""Bulk import and the other users services."""

from __future__ import annotations

import pytest

from gateway import hosts
from gateway.provisioning import users


def test_import_continues_after_interruption(gw, sim):
    host, _ = hosts.add(gw, "LMS", [])
    rows = users.read_csv(["id,email", "a1,a1@example.edu", "a2,a2@example.edu"])
    sim.fault(sim.endpoint("invite_collaborator", "projects.addCollaborator"), "html502", 10)
    broken = users.import_users(gw, host, rows, parallelism=2)
    assert len(broken.failed) == 2
    sim.reset()
    fixed = users.import_users(gw, host, rows, parallelism=2)
    assert (fixed.created, fixed.completed, len(fixed.failed)) == (0, 2, 0)
    again = users.import_users(gw, host, rows, parallelism=2, with_tokens=True)
    # Users whose only need was a fresh token were set up before: not "created".
    assert (again.created, again.completed, again.skipped) == (0, 0, 2)
    account, project = (
        sim.endpoint("create_account", "v2/auth/sign-up"),
        sim.endpoint("create_project", "projects.createProject"),
    )
    assert sim.calls().get(account, 0) == 0 and sim.calls().get(project, 0) == 0


def test_bad_csv(gw):
    with pytest.raises(Exception, match="header row"):
        users.read_csv(["a,b", "1,2"])
