"""The cocalc-gateway command: hosts, users, db, settings, demo and simulator."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import gateway_config
from tests.launching import mint

ROOT = Path(__file__).resolve().parents[2]


# -- the CLI ------------------------------------------------------------------------------
def test_hosts_commands(runner):
    added = runner.invoke(
        args=[
            "hosts",
            "add",
            "LMS",
            "--origin",
            "https://lms.example.edu",
            "--origin",
            "https://LMS2.example.edu:8443/",
        ]
    )
    assert added.exit_code == 0, added.output
    host = json.loads(added.output)
    assert host["secret"].startswith("hs_") and host["id"].startswith("host_")
    assert host["origins"] == ["https://lms.example.edu", "https://lms2.example.edu:8443"]
    listed = json.loads(runner.invoke(args=["hosts", "list"]).output)
    assert [h["id"] for h in listed] == [host["id"]] and "secret" not in listed[0]
    rotated = json.loads(runner.invoke(args=["hosts", "rotate-secret", host["id"]]).output)
    assert rotated["secret"] != host["secret"]
    assert runner.invoke(args=["hosts", "remove", host["id"]]).exit_code == 0
    missing = runner.invoke(args=["hosts", "remove", host["id"]])
    assert missing.exit_code == 1 and "no host" in missing.output
    bad = runner.invoke(args=["hosts", "add", "X", "--origin", "lms.example.edu/path"])
    assert bad.exit_code == 1 and "not an origin" in bad.output


def test_rotated_secret_replaces_the_old_one(app, runner, sim):
    host = json.loads(runner.invoke(args=["hosts", "add", "LMS"]).output)
    new = json.loads(runner.invoke(args=["hosts", "rotate-secret", host["id"]]).output)["secret"]
    client = app.test_client()
    assert (
        client.post("/launch", data={"token": mint(host["id"], host["secret"])}).status_code == 401
    )
    assert client.post("/launch", data={"token": mint(host["id"], new)}).status_code == 303


def test_users_import_list_show_deprovision(app, runner, sim, tmp_path):
    host = json.loads(runner.invoke(args=["hosts", "add", "LMS"]).output)
    rows = [
        "id,email,first_name,last_name",
        "s1,s1@example.edu,Ann,One",
        "s2,,Bo,Two",
        "s3,not-an-email,Cy,Three",
    ]
    (tmp_path / "users.csv").write_text("\n".join(rows) + "\n")
    first = runner.invoke(
        args=[
            "users",
            "import",
            str(tmp_path / "users.csv"),
            "--host",
            host["id"],
            "--parallel",
            "4",
        ]
    )
    assert first.exit_code == 1  # one row failed
    summary = json.loads(first.output[first.output.index("{") :])
    assert (summary["created"], summary["skipped"], summary["failed"]) == (2, 0, 1)
    assert summary["failures"][0]["id"] == "s3"
    sim.reset()
    again = runner.invoke(
        args=["users", "import", str(tmp_path / "users.csv"), "--host", host["id"]]
    )
    summary = json.loads(again.output[again.output.index("{") :])
    assert (summary["created"], summary["skipped"]) == (0, 2)
    assert sim.total_calls() == 0  # a re-run makes no CoCalc call for finished users
    listed = [
        json.loads(line) for line in runner.invoke(args=["users", "list"]).output.splitlines()
    ]
    assert {u["external_id"] for u in listed} == {"s1", "s2"}
    shown = json.loads(runner.invoke(args=["users", "show", "s1", "--host", host["id"]]).output)
    project_id = shown["projects"][0]["project_id"]
    assert shown["account_id"] in sim.project(project_id)["collaborators"]
    gone = runner.invoke(args=["users", "deprovision", "s1", "--host", host["id"], "--yes"])
    assert gone.exit_code == 0, gone.output
    assert shown["account_id"] not in sim.project(project_id)["collaborators"]
    kept = json.loads(runner.invoke(args=["users", "show", "s1", "--host", host["id"]]).output)
    assert kept["deprovisioned_at"] and kept["account_id"] == shown["account_id"]  # a tombstone
    erased = runner.invoke(args=["users", "delete", "s1", "--host", host["id"], "--yes"])
    assert erased.exit_code == 0, erased.output
    assert json.loads(erased.output)["forgotten"] is True
    assert runner.invoke(args=["users", "show", "s1", "--host", host["id"]]).exit_code == 1


def _cli(env, *args):
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_db_upgrade_command(sim, tmp_path):
    out = _cli(_env(sim, f"sqlite:///{tmp_path / 'cli.sqlite3'}"), "db", "upgrade")
    assert out.returncode == 0, out.stderr
    assert f"revision {head_revision()}" in out.stdout


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    from gateway.store import migrate

    return ScriptDirectory.from_config(migrate.alembic_config(None)).get_current_head()


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("COCALC_URL", None, "COCALC_URL is not set"),
        ("COCALC_URL", "cocalc.example", "COCALC_URL must be an http(s) URL"),
        ("COCALC_API_KEY", None, "COCALC_API_KEY is not set"),
        ("GATEWAY_SECRET_KEY", "short", "GATEWAY_SECRET_KEY must be at least 32"),
        ("COCALC_TIMEOUT", "soon", "COCALC_TIMEOUT must be a number"),
        ("COCALC_API_DIALECT", "v3", "COCALC_API_DIALECT must be one of"),
        ("GATEWAY_ENCRYPTION_KEYS", "not-a-key", "GATEWAY_ENCRYPTION_KEYS must be"),
        ("GATEWAY_REVOKE_TOKENS", "maybe", "GATEWAY_REVOKE_TOKENS must be true or false"),
        ("GATEWAY_METRICS_NETWORKS", "10.0.0.0/8,nope", "GATEWAY_METRICS_NETWORKS: 'nope'"),
        ("GATEWAY_TRUSTED_PROXIES", "300.1.2.3", "GATEWAY_TRUSTED_PROXIES: '300.1.2.3'"),
        ("COCALC_TIMEOUT", "0", "COCALC_TIMEOUT must be at least 0.1"),
        ("COCALC_RETRIES", "99", "COCALC_RETRIES must be at most 10"),
        ("GATEWAY_TOKEN_MARGIN", "50000", "GATEWAY_TOKEN_MARGIN must be at most"),
        ("GATEWAY_DB_CONNECTIONS", "1", "GATEWAY_DB_CONNECTIONS must be at least 4"),
        ("GATEWAY_OPEN_RETRY_MS", "90000", "GATEWAY_OPEN_RETRY_MS must not be more than"),
        ("GATEWAY_EMAIL_DOMAIN", "not a domain", "GATEWAY_EMAIL_DOMAIN must be a domain"),
        ("GATEWAY_METRICS_TOKEN", "short", "GATEWAY_METRICS_TOKEN must be at least 16"),
        ("GATEWAY_PUBLIC_URL", "gateway.example", "GATEWAY_PUBLIC_URL must be an http(s) URL"),
    ],
)
# Settings are checked before CoCalc is spoken to: one dialect says it all (each case is a
# process of its own, so both would cost the suite half a minute).
def test_bad_settings_stop_start_up_naming_the_setting(sim, tmp_path, setting, value, message):
    env = _env(sim, f"sqlite:///{tmp_path / 'x.sqlite3'}")
    if value is None:
        env.pop(setting)
    else:
        env[setting] = value
    out = _cli(env, "users", "list")  # a command that needs every setting
    assert out.returncode != 0
    assert message in out.stderr and "Traceback" not in out.stderr
    assert sim.admin_key not in out.stderr


def test_a_database_not_migrated_is_one_clear_line(tmp_path):
    env = _bare_env(tmp_path, GATEWAY_SECRET_KEY="k" * 40)
    out = _cli(env, "hosts", "list")
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert "cocalc-gateway db upgrade" in out.stderr


def _env(sim, database_url):
    import os

    config = gateway_config(sim, database_url)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COCALC_", "GATEWAY_"))}
    env.update({k: str(v) for k, v in config.items() if k != "TESTING"})
    return env


def _free_run(count: int) -> int:
    """A base port with ``count`` free ports in a row."""
    import socket

    for base in range(20000, 30000, 7):
        sockets = []
        try:
            for port in range(base, base + count):
                s = socket.socket()
                s.bind(("127.0.0.1", port))
                sockets.append(s)
            return base
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
    raise RuntimeError("no free ports")


def _start(command: list[str], ready_text: str):
    import os
    import time

    env = {k: v for k, v in os.environ.items() if not k.startswith(("COCALC_", "GATEWAY_"))}
    env["PYTHONUNBUFFERED"] = "1"  # we read its output line by line
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    deadline = time.monotonic() + 60
    seen = ""
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        seen += line
        if ready_text in line:
            return process
        if not line and process.poll() is not None:
            break
    process.kill()
    raise AssertionError(f"{command} did not start:\n{seen}")


def test_demo_command_runs_on_a_machine_without_settings():
    import requests

    base = _free_run(3)
    demo = _start(
        [str(Path(sys.executable).parent / "cocalc-gateway"), "demo", "--port", str(base)],
        "Open the demo host page",
    )
    try:
        page = requests.get(f"http://127.0.0.1:{base}/", timeout=10)
        assert page.status_code == 200 and "cocalc-embed" not in page.text  # loaded by script
        assert "demo-host.js" in page.text
        assert requests.get(f"http://127.0.0.1:{base + 1}/healthz", timeout=10).ok
        launch = requests.post(
            f"http://127.0.0.1:{base}/demo/launch",
            json={"user": "alice", "path": "welcome.md", "way": "api"},
            timeout=30,
        )
        assert launch.status_code == 201 and launch.json()["project_id"]
    finally:
        demo.terminate()
        demo.wait(timeout=30)


def test_simulator_command():
    import requests

    port = _free_run(1)
    simulator = _start(
        [
            str(Path(sys.executable).parent / "cocalc-gateway"),
            "simulator",
            "--port",
            str(port),
            "--admin-key",
            "sk_cli_test_key",
        ],
        "CoCalc simulator",
    )
    try:
        reply = requests.post(
            f"http://127.0.0.1:{port}/api/v1/ping", auth=("sk_cli_test_key", ""), timeout=10
        )
        assert reply.json()["event"] == "pong"
    finally:
        simulator.terminate()
        simulator.wait(timeout=30)


def test_a_tool_key_whose_kid_begins_with_a_dash_can_be_removed(app, runner):
    """A kid is a base64url thumbprint: one in 64 begins with "-" (seen in a test run)."""
    from sqlalchemy import update

    from gateway.ways_in.lti import tool_keys

    gw = app.extensions["gateway"]
    old = json.loads(runner.invoke(args=["lti", "keys", "rotate"]).output)["kid"]
    runner.invoke(args=["lti", "keys", "rotate"])
    with gw.db.begin() as session:
        session.execute(
            update(tool_keys.LtiToolKey)
            .where(tool_keys.LtiToolKey.kid == old)
            .values(kid="-z" + old)
        )
    removed = runner.invoke(args=["lti", "keys", "remove", "-z" + old])
    assert removed.exit_code == 0, removed.output
    assert json.loads(removed.output) == {"removed": "-z" + old}
    assert "-z" + old not in [k["kid"] for k in tool_keys.describe_all(gw)]


def _bare_env(tmp_path, **settings) -> dict:
    """An environment with none of the gateway's settings but those given."""
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith(("COCALC_", "GATEWAY_"))}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'bare.sqlite3'}"
    env.update(settings)
    return env


def test_the_cli_helps_with_no_settings_at_all(tmp_path):
    out = _cli(_bare_env(tmp_path), "--help")
    assert out.returncode == 0, out.stderr
    for group in ("db", "doctor", "hosts", "lti", "sso", "users", "keys", "connect"):
        assert f"\n  {group} " in out.stdout, group
    assert "configuration" not in out.stdout + out.stderr


def test_the_cli_offers_the_gateways_options_and_commands_only(tmp_path):
    out = _cli(_bare_env(tmp_path), "--help")
    for flask_own in ("--app", "--debug", "--env-file", "\n  run ", "\n  shell ", "\n  routes "):
        assert flask_own not in out.stdout, flask_own
    assert "--version" in out.stdout


def test_version_says_the_gateways_version_revision_and_dialect(tmp_path):
    from importlib.metadata import version

    env = _bare_env(tmp_path)
    before = _cli(env, "--version")
    assert before.returncode == 0, before.stderr
    assert before.stdout.splitlines()[0] == f"cocalc-gateway {version('cocalc-gateway')}"
    assert "Flask" not in before.stdout and "not created yet" in before.stdout
    assert _cli(env, "db", "upgrade").returncode == 0
    after = _cli(env, "--version").stdout
    assert f"revision {head_revision()}" in after and "not known yet" in after
    current = json.loads(_cli(env, "db", "current").stdout)
    assert current == {"revision": head_revision(), "head": head_revision()}
    fixed = _cli({**env, "COCALC_API_DIALECT": "v1"}, "--version").stdout
    assert "CoCalc dialect: v1 (COCALC_API_DIALECT)" in fixed
    server = _cli({**env, "DATABASE_URL": "postgresql://db.example.test/gw"}, "--version")
    assert server.returncode == 0 and "db current" in server.stdout


def test_commands_that_need_no_cocalc_run_without_its_settings(tmp_path):
    env = _bare_env(tmp_path)
    upgraded = _cli(env, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    env["GATEWAY_SECRET_KEY"] = "k" * 40
    added = _cli(env, "hosts", "add", "Course", "--origin", "https://lms.example.edu")
    assert added.returncode == 0, added.stderr
    assert "not known here" in json.loads(added.stdout)["framed_sign_in"]
    keys = _cli(env, "lti", "keys", "list")
    assert keys.returncode == 0, keys.stderr
    # A command that needs CoCalc says which setting it misses, in one line.
    users = _cli(env, "users", "list")
    assert users.returncode != 0 and "COCALC_URL is not set" in users.stderr
    assert "Traceback" not in users.stderr


def test_doctor_says_what_is_missing(tmp_path):
    env = _bare_env(tmp_path)
    _cli(env, "db", "upgrade")
    out = _cli(env, "doctor", "--json")
    assert out.returncode == 1, out.stderr
    found = {f["name"]: f for f in json.loads(out.stdout)["findings"]}
    assert found["configuration"]["status"] == "fail"
    assert set(found["configuration"]["facts"]["missing"]) == {
        "COCALC_URL",
        "COCALC_API_KEY",
        "GATEWAY_SECRET_KEY",
        "GATEWAY_PUBLIC_URL",
    }
    assert found["dialect"]["status"] == "skip" and "COCALC_URL" in found["dialect"]["detail"]
    assert found["database"]["status"] == "ok"
