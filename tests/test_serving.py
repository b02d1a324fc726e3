"""Production serving: the Procfile's release and web commands, two gateways on one database."""

from __future__ import annotations

import os
import shlex
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from tests.conftest import empty_postgres, gateway_config
from tests.launching import mint

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def procfile() -> dict[str, list[str]]:
    entries = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        entries[name.strip()] = shlex.split(command)
    return entries


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, process, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"gunicorn exited: {process.stdout.read()}")
        try:
            if requests.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except requests.RequestException:  # not listening yet, or workers still booting
            time.sleep(0.2)
    raise AssertionError(f"{url} did not become healthy")


@pytest.fixture
def environment(simulators, postgres_url):
    sim = simulators["v1"]
    sim.reset()
    empty_postgres(postgres_url)
    config = gateway_config(sim, postgres_url)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COCALC_", "GATEWAY_"))}
    env.update({k: str(v) for k, v in config.items() if k != "TESTING"})
    env["PATH"] = f"{BIN}:{env.get('PATH', '')}"
    env.update(WEB_CONCURRENCY="2", GUNICORN_THREADS="8", GATEWAY_LOG_FORMAT="json")
    return sim, env


def test_two_gunicorn_instances_share_one_database(environment):
    sim, env = environment
    commands = procfile()
    release = subprocess.run(
        commands["release"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert release.returncode == 0, release.stderr
    added = subprocess.run(
        [BIN / "cocalc-gateway", "hosts", "add", "LMS"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    import json

    host = json.loads(added.stdout)
    servers = []
    try:
        for _ in range(2):
            port = free_port()
            process = subprocess.Popen(
                commands["web"],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                env={**env, "GUNICORN_BIND": f"127.0.0.1:{port}"},
            )
            servers.append((f"http://127.0.0.1:{port}", process))
        for url, process in servers:
            wait_healthy(url, process)

        def launch(i):
            url = servers[i % 2][0]
            return requests.post(
                f"{url}/api/v1/launches",
                json={"user": {"id": "herd"}},
                headers={"Authorization": f"Bearer {host['secret']}"},
                timeout=60,
            )

        with ThreadPoolExecutor(20) as pool:
            replies = list(pool.map(launch, range(20)))
        assert [r.status_code for r in replies] == [201] * 20
        assert len({r.json()["account_id"] for r in replies}) == 1
        assert len({r.json()["project_id"] for r in replies}) == 1
        calls = sim.calls()
        assert calls["create_account"] == 1 and calls["create_project"] == 1
        token = mint(host["id"], host["secret"])
        assert (
            requests.get(
                f"{servers[0][0]}/launch",
                params={"token": token},
                allow_redirects=False,
                timeout=30,
            ).status_code
            == 303
        )
    finally:
        for _, process in servers:
            process.terminate()
        output = "".join(process.communicate(timeout=30)[0] for _, process in servers)
    # gunicorn's access log is on stdout, one line per request, without the launch token
    assert '"POST /api/v1/launches HTTP/1.1" 201' in output
    assert "GET /launch?token=[redacted]" in output and token not in output
    assert host["secret"] not in output and sim.admin_key not in output


def hold_connections(url: str, until: float, *, slow: bool, connected=None) -> None:
    """Keep one connection to the gateway busy until ``until``: sending a request one header
    byte a second (``slow``), or nothing at all; when the server closes it, open another.
    ``connected`` (a semaphore) is released once the first connection is up."""
    import contextlib

    host, port = url.removeprefix("http://").split(":")
    while time.monotonic() < until:
        try:
            with socket.create_connection((host, int(port)), timeout=2) as conn:
                if connected is not None:
                    connected.release()
                    connected = None
                if slow:
                    conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: slow\r\n")
                while time.monotonic() < until:
                    if slow:
                        conn.sendall(b"X")
                    # An empty read means the server closed us; a timeout, that it waits.
                    with contextlib.suppress(TimeoutError):
                        conn.settimeout(1)
                        if conn.recv(1) == b"":
                            break
        except OSError:
            time.sleep(0.2)


def test_slow_and_idle_clients_do_not_starve_normal_requests(environment):
    """100 connections that send headers slowly and 100 that send nothing, for 12 s (two of
    gunicorn's keep-alive periods), with the Procfile's own serving command: normal requests
    are served, p99 under 1 s."""
    _sim, env = environment
    commands = procfile()
    subprocess.run(commands["release"], cwd=ROOT, env=env, capture_output=True, timeout=60)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        commands["web"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        env={**env, "GUNICORN_BIND": f"127.0.0.1:{port}"},
    )
    try:
        wait_healthy(url, process)
        until = time.monotonic() + 12
        connected = threading.Semaphore(0)
        with ThreadPoolExecutor(200) as pool:
            for i in range(200):
                pool.submit(hold_connections, url, until, slow=i % 2 == 0, connected=connected)
            for _ in range(200):  # every holder is connected before the measurement starts
                assert connected.acquire(timeout=20)
            timings, statuses = [], []
            while time.monotonic() < until - 1:
                began = time.monotonic()
                try:
                    statuses.append(requests.get(f"{url}/healthz", timeout=5).status_code)
                except requests.RequestException:
                    statuses.append(None)
                timings.append(time.monotonic() - began)
                time.sleep(0.05)
    finally:
        process.terminate()
        process.wait(timeout=30)
    timings.sort()
    p99 = timings[int(len(timings) * 0.99)]
    assert statuses.count(200) == len(statuses) and len(statuses) > 100
    assert p99 < 1.0, f"p99 {p99:.2f} s over {len(timings)} requests"


def test_two_sqlite_writers_in_one_gevent_worker_do_not_stall_it(tmp_path):
    """SQLite's own busy wait sleeps in C, where gevent cannot switch: a writer waiting
    for the lock stalled the whole worker, the lock's holder included, for 30 s. The
    gateway waits in Python instead (``store.database._begin_immediate``)."""
    import json

    done = subprocess.run(
        [sys.executable, "-m", "tests.serving.sqlite_writers", str(tmp_path / "g.sqlite3")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["writers"]["first"] == "ok" and found["writers"]["second"].startswith("ok")
    assert found["longest_stall_s"] < 0.25, found
