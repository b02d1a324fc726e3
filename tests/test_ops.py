"""Operations: health, readiness, metrics, logs, and the CLI."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from gateway import hosts
from gateway.provisioning import users
from gateway.support import concurrency, logs
from tests.conftest import gateway_config, make_app
from tests.launching import mint

ROOT = Path(__file__).resolve().parent.parent


def test_healthz(client):
    reply = client.get("/healthz")
    assert reply.status_code == 200 and reply.get_json() == {"status": "ok"}


def test_readyz_reports_dialect_and_admin_key(client, sim):
    reply = client.get("/readyz")
    assert reply.status_code == 200
    body = reply.get_json()
    assert body["status"] == "ready" and body["checks"]["database"]["ok"]
    assert body["checks"]["cocalc"]["dialect"] == sim.dialect
    assert body["checks"]["cocalc"]["key_is_admin"] == (True if sim.dialect == "current" else None)


def test_readyz_reports_a_non_admin_key(sim, sqlite_url):
    app = make_app(sim, sqlite_url, COCALC_API_KEY=sim.user_key)
    admin = app.test_client().get("/readyz").get_json()["checks"]["cocalc"]["key_is_admin"]
    assert admin == (False if sim.dialect == "current" else None)


def test_readyz_when_cocalc_is_down(sim, sqlite_url):
    app = make_app(sim, sqlite_url, COCALC_TIMEOUT=0.5, COCALC_RETRIES=0)
    sim.fault(sim.endpoint("ping", "system.ping"), "html502")
    reply = app.test_client().get("/readyz")
    assert reply.status_code == 503
    body = reply.get_json()
    assert body["checks"]["cocalc"]["ok"] is False and body["checks"]["database"]["ok"]
    assert sim.admin_key not in reply.get_data(as_text=True)


def test_readyz_with_auto_dialect_and_a_non_cocalc_server(sim, sqlite_url):
    app = make_app(
        sim,
        sqlite_url,
        COCALC_URL="http://127.0.0.1:9",
        COCALC_API_DIALECT="auto",
        COCALC_TIMEOUT=0.5,
        COCALC_RETRIES=0,
    )
    reply = app.test_client().get("/readyz")
    assert reply.status_code == 503 and "cocalc" in reply.get_json()["checks"]


def test_metrics_are_protected_and_count(sim, sqlite_url):
    app = make_app(
        sim,
        sqlite_url,
        GATEWAY_METRICS_TOKEN="metrics-token-123",
        GATEWAY_METRICS_NETWORKS="10.0.0.0/8",
    )
    gw = app.extensions["gateway"]
    host, secret = hosts.add(gw, "Course", [])
    client = app.test_client()
    client.post("/launch", data={"token": mint(host.id, secret)})
    assert client.get("/metrics").status_code == 403
    reply = client.get("/metrics", headers={"Authorization": "Bearer metrics-token-123"})
    assert reply.status_code == 200
    text = reply.get_data(as_text=True)
    assert 'gateway_launches_total{outcome="ok",way="token"}' in text
    assert "gateway_cocalc_call_seconds_bucket" in text
    assert 'gateway_launch_paths_total{path="cold"}' in text
    concurrency.wait_idle()


def test_metrics_from_an_allowed_network(client):
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "192.0.2.7"}).status_code == 403


def test_json_logs_carry_request_ids_to_cocalc(app, host_and_secret, sim):
    stream = io.StringIO()
    handler = logs.configure("json", stream)
    try:
        host, secret = host_and_secret
        sim.fault(sim.endpoint("create_project", "projects.createProject"), "error")
        reply = app.test_client().post(
            "/launch", data={"token": mint(host.id, secret)}, headers={"X-Request-Id": "req-12345"}
        )
        assert reply.headers["X-Request-Id"] == "req-12345"
    finally:
        logging.getLogger().removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    failed = [e for e in lines if "CoCalc call failed" in e["message"]]
    assert failed and failed[0]["request_id"] == "req-12345"
    assert all({"time", "level", "logger", "message", "request_id"} <= set(e) for e in lines)


@pytest.fixture
def host_and_secret(gw):
    return hosts.add(gw, "Course", ["https://lms.example.edu"])


def test_redaction():
    text = (
        "GET /launch?token=eyJa.eyJb.c auth_token=abc123 Bearer hs_secret sk_live_123456 "
        "/embed/ABCDEFGHIJKLMNOPQRSTUVWX password=hunter2"
    )
    redacted = logs.redact(text)
    for secret in (
        "eyJa.eyJb.c",
        "abc123",
        "hs_secret",
        "sk_live_123456",
        "ABCDEFGHIJKLMNOP",
        "hunter2",
    ):
        assert secret not in redacted


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
    assert runner.invoke(args=["users", "show", "s1", "--host", host["id"]]).exit_code == 1


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
    assert "revision 0002" in out.stdout


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
    ],
)
def test_bad_settings_stop_start_up_naming_the_setting(sim, tmp_path, setting, value, message):
    env = _env(sim, f"sqlite:///{tmp_path / 'x.sqlite3'}")
    if value is None:
        env.pop(setting)
    else:
        env[setting] = value
    out = _cli(env, "hosts", "list")
    assert out.returncode != 0
    assert message in out.stderr and "Traceback" not in out.stderr
    assert sim.admin_key not in out.stderr


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


def test_bench_baselines_only_when_asked(sim, database_url):
    from sqlalchemy import func, select

    from gateway.store.models import Lock

    plain = make_app(sim, database_url)
    assert plain.test_client().get("/_bench/bare").status_code == 404
    plain.extensions["db"].dispose()
    app = make_app(sim, database_url, GATEWAY_BENCH_ENDPOINT=True)
    client = app.test_client()
    assert client.get("/_bench/bare").get_data(as_text=True) == "ok"
    assert client.get("/_bench/read").get_data(as_text=True) == "1"
    for _ in range(2):
        assert client.get("/_bench/write").status_code == 200
    with app.extensions["gateway"].db.begin() as session:
        assert session.scalar(select(func.count()).select_from(Lock)) == 2
    app.extensions["db"].dispose()
