"""Measure warm launches against a bare endpoint, cold launches, a herd, and a bulk import.

Run with ``make bench``. Everything runs on this machine: PostgreSQL on 127.0.0.1:5432, the
CoCalc simulator in this process, the gateway under the Procfile's own web command (gunicorn
with its gevent workers), and wrk as the load generator. Each dialect gets a stack of its
own; the current API runs with revocation on, the production default. Prints a table and
writes ``artifacts/bench.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import secrets
import shlex
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urljoin

import psycopg
import requests

from bench.simulator_process import SimulatorProcess
from tests.launching import mint

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
ADMIN_KEY = "sk_bench_" + secrets.token_hex(12)
TOKENS_PER_ROUND = 40000  # more than a round of launches can use on this machine
WARM_USERS = 200


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Stack:
    """PostgreSQL database, simulator and a gunicorn gateway, torn down on exit."""

    def __init__(self, workers: int, *, dialect: str = "v1", origins=(), env=None):
        self.dialect = dialect
        self.db_name = f"gateway_bench_{uuid.uuid4().hex[:8]}"
        self.admin = psycopg.connect(PG_ADMIN_URL, autocommit=True)
        self.admin.execute(f'CREATE DATABASE "{self.db_name}"')
        base = PG_ADMIN_URL.rsplit("/", 1)[0]
        database_url = f"{base}/{self.db_name}"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # Plain http origins may talk to the kiosk pages only in the simulator (the browser
        # benchmark's host page, and the gateway's embed page).
        sim_port = free_port()
        self.simulator = SimulatorProcess(
            sim_port,
            {
                "dialect": dialect,
                "admin_key": ADMIN_KEY,
                "account_rate_limit": None,
                "insecure_origins": [self.url, *origins],
                "dns": f"http://127.0.0.1:{sim_port}",
            },
        )
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("COCALC_", "GATEWAY_"))},
            "PATH": f"{BIN}:{os.environ.get('PATH', '')}",
            "COCALC_URL": self.simulator.url,
            "COCALC_API_KEY": ADMIN_KEY,
            "COCALC_API_DIALECT": dialect,
            "DATABASE_URL": database_url,
            "GATEWAY_SECRET_KEY": secrets.token_urlsafe(32),
            "GATEWAY_PUBLIC_URL": self.url,
            "GATEWAY_BENCH_ENDPOINT": "true",
            "GATEWAY_LOG_FORMAT": "json",
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "WEB_CONCURRENCY": str(workers),
            **(env or {}),
        }
        self.workers = workers
        self.procfile = dict(
            line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines()
        )
        self.cli(*shlex.split(self.procfile["release"])[1:])
        origin_args = [arg for origin in origins for arg in ("--origin", origin)]
        self.host = json.loads(self.cli("hosts", "add", "Bench", *origin_args))
        self.log = tempfile.TemporaryFile()
        self.start_gateway()

    def start_gateway(self, **env: str) -> None:
        self.gunicorn = subprocess.Popen(
            shlex.split(self.procfile["web"]),
            cwd=ROOT,
            env={**self.env, **env},
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.url}/healthz", timeout=2).ok:
                    break
            except requests.RequestException:
                time.sleep(0.2)

    def restart_gateway(self, **env: str) -> None:
        self.gunicorn.terminate()
        self.gunicorn.wait(timeout=30)
        self.start_gateway(**env)

    def cli(self, *args: str) -> str:
        out = subprocess.run(
            [BIN / "cocalc-gateway", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if out.returncode not in (0, 1) or not out.stdout.strip():
            raise RuntimeError(f"cocalc-gateway {args[0]} failed: {out.stderr[-3000:]}")
        return out.stdout

    def sim(self, path: str, **body):
        return requests.post(f"{self.simulator.url}/_sim/{path}", json=body, timeout=10)

    def calls(self) -> int:
        return requests.get(f"{self.simulator.url}/_sim/calls", timeout=10).json()["total"]

    def close(self):
        self.gunicorn.terminate()
        self.gunicorn.wait(timeout=30)
        self.simulator.stop()
        self.admin.execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')


WRK_RPS = re.compile(r"Requests/sec:\s+([\d.]+)")
WRK_PCT = re.compile(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.M)
WRK_BAD = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")


def wrk(url: str, seconds: int, connections: int, script_args=None, headers=()) -> dict:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for header in headers:
        command += ["-H", header]
    if script_args:
        command += ["-s", str(ROOT / "bench" / "launch.lua"), url, "--", *script_args]
    else:
        command.append(url)
    out = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60).stdout
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    percentiles = {p: float(v) * scale[u] for p, v, u in WRK_PCT.findall(out)}
    bad = WRK_BAD.search(out)
    return {
        "rps": float(WRK_RPS.search(out).group(1)),
        "p50_ms": percentiles.get("50"),
        "p99_ms": percentiles.get("99"),
        "errors": int(bad.group(1)) if bad else 0,
    }


def cpu_seconds(gunicorn_pid: int) -> dict[str, float]:
    """CPU time used so far by the gateway's gunicorn workers and by PostgreSQL's processes."""
    tick = os.sysconf("SC_CLK_TCK")
    used = {"gateway": 0.0, "postgres": 0.0}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # the process ended meanwhile
            continue
        name = text[text.index("(") + 1 : text.rindex(")")]
        fields = text[text.rindex(")") + 2 :].split()
        seconds = (int(fields[11]) + int(fields[12])) / tick  # utime + stime
        if name == "postgres":
            used["postgres"] += seconds
        elif int(fields[1]) == gunicorn_pid:
            used["gateway"] += seconds
    return used


def measured(
    stack: Stack, url: str, seconds: int, connections: int, script=None, headers=()
) -> dict:
    """One wrk run, with the CPU each request cost the gateway and PostgreSQL."""
    before = cpu_seconds(stack.gunicorn.pid)
    result = wrk(url, seconds, connections, script, headers)
    after = cpu_seconds(stack.gunicorn.pid)
    requests_done = max(1, result["rps"] * seconds)
    for part in ("gateway", "postgres"):
        result[f"{part}_cpu_us"] = round((after[part] - before[part]) / requests_done * 1e6)
    return result


def summarize(runs: list[dict], bare_runs: list[dict]) -> dict:
    """Medians over the rounds; "vs bare" compares each round with the bare run beside it."""
    chosen = sorted(runs, key=lambda r: r["rps"])[len(runs) // 2]
    ratios = [run["rps"] / bare["rps"] for run, bare in zip(runs, bare_runs, strict=True)]
    return {
        **chosen,
        "gateway_cpu_us": statistics.median(r["gateway_cpu_us"] for r in runs),
        "postgres_cpu_us": statistics.median(r["postgres_cpu_us"] for r in runs),
        "vs_bare": round(statistics.median(ratios), 3),
        "rounds_rps": [r["rps"] for r in runs],
        "rounds_vs_bare": [round(r, 3) for r in ratios],
    }


def warm(stack: Stack, seconds: int, connections: int, rounds: int) -> dict:
    # wrk opens its keep-alive connections in one burst, and whichever worker wakes first may
    # take most of them: all 16 on one worker halves the throughput (seen). Capping each
    # worker at its share splits them evenly, as many clients would over time.
    share = -(-connections // stack.workers)
    stack.restart_gateway(GUNICORN_WORKER_CONNECTIONS=str(share))
    host_id, secret = stack.host["id"], stack.host["secret"]
    # WARM_USERS users, each set up once (cold), then launched again and again (warm), in
    # turn: with revocation (the current API) every page takes the user's spare token and a
    # new spare is fetched in the background, so one user launched a thousand times a second
    # would measure the refills, not a returning user's launch.
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: api_launch(stack, f"w{i}"), range(WARM_USERS)))
    first = requests.post(
        f"{stack.url}/launch",
        data={"token": mint(host_id, secret, sub="w0")},
        allow_redirects=False,
        timeout=30,
    )
    embed_url = urljoin(stack.url + "/", first.headers["Location"])
    # The page is bound to the browser that got it: its frame sends the binding cookie.
    binding = first.headers["Set-Cookie"].split(";", 1)[0]
    page_headers = (f"Cookie: {binding}", "Sec-Fetch-Dest: iframe")
    # A launch token works once: every round gets tokens of its own.
    token_files = []
    for _ in range(rounds):
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as tokens:
            for i in range(TOKENS_PER_ROUND):
                tokens.write(mint(host_id, secret, sub=f"w{i % WARM_USERS}") + "\n")
        token_files.append(tokens.name)
    settle_background_work(stack)
    calls_before = stack.calls()
    # This machine's speed drifts by tens of percent over a minute. Short rounds, each
    # endpoint right after the bare one, and the median of each round's ratio cancel most of
    # that: "side by side in one run".
    targets = {
        "bare": f"{stack.url}/_bench/bare",
        "read": f"{stack.url}/_bench/read",
        "write": f"{stack.url}/_bench/write",
        "embed_page": embed_url,
        "launch": f"{stack.url}/launch",
    }
    headers = {"embed_page": page_headers}
    for name, url in targets.items():  # warm-up: connections, prepared statements
        if name != "launch":
            wrk(url, 1, connections, headers=headers.get(name, ()))
    runs = {name: [] for name in targets}
    for round_tokens in token_files:
        for name, url in targets.items():
            script = [round_tokens, "2"] if name == "launch" else None
            runs[name].append(
                measured(stack, url, seconds, connections, script, headers.get(name, ()))
            )
    results = {name: summarize(found, runs["bare"]) for name, found in runs.items()}
    results["cocalc_calls_during_warm_runs"] = stack.calls() - calls_before
    for name in token_files:
        os.unlink(name)
    return results


def settle_background_work(stack: Stack) -> None:
    """Wait until the gateway's background work (spare tokens) has stopped calling CoCalc."""
    last, deadline = -1, time.monotonic() + 60
    while time.monotonic() < deadline:
        now = stack.calls()
        if now == last:
            return
        last = now
        time.sleep(1)


def api_launch(stack: Stack, user_id: str) -> float:
    started = time.perf_counter()
    reply = requests.post(
        f"{stack.url}/api/v1/launches",
        json={"user": {"id": user_id}},
        headers={"Authorization": f"Bearer {stack.host['secret']}"},
        timeout=60,
    )
    elapsed = (time.perf_counter() - started) * 1000
    if reply.status_code != 201:
        raise RuntimeError(f"launch failed: {reply.status_code} {reply.text[:200]}")
    return elapsed


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


CREATE_PROJECT = {"v1": "/api/v1/create_project", "current": "/api/v2/projects/create"}


def round_trip_ms(stack: Stack, samples: int = 20) -> float:
    """One CoCalc round trip as a client sees it: the added latency plus the server's work."""
    session = requests.Session()
    session.auth = (ADMIN_KEY, "")
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        session.post(
            stack.simulator.url + CREATE_PROJECT[stack.dialect], json={"title": "rt"}, timeout=10
        ).raise_for_status()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def cold(stack: Stack, users: int, latency_ms: float) -> dict:
    stack.sim("config", latency_ms=latency_ms)
    round_trip = round_trip_ms(stack)
    timings = [api_launch(stack, f"cold-{uuid.uuid4().hex[:8]}") for _ in range(users)]
    stack.sim("config", latency_ms=0)
    return {
        "latency_per_call_ms": latency_ms,
        "round_trip_ms": round(round_trip, 1),
        "launches": users,
        "p50_ms": round(statistics.median(timings), 1),
        "p99_ms": round(percentile(timings, 99), 1),
        # the goal: "two CoCalc round trips plus 150 ms", a round trip measured, not assumed
        "target_ms": round(2 * round_trip + 150, 1),
    }


def herd(stack: Stack, size: int, latency_ms: float) -> dict:
    stack.sim("config", latency_ms=latency_ms)
    before = requests.get(f"{stack.simulator.url}/_sim/calls", timeout=10).json()["calls"]
    user = f"herd-{uuid.uuid4().hex[:8]}"
    with ThreadPoolExecutor(size) as pool:
        timings = list(pool.map(lambda _: api_launch(stack, user), range(size)))
    after = requests.get(f"{stack.simulator.url}/_sim/calls", timeout=10).json()["calls"]
    stack.sim("config", latency_ms=0)
    signup = "create_account" if stack.dialect == "v1" else "v2/auth/sign-up"
    accounts = after.get(signup, 0) - before.get(signup, 0)
    return {
        "simultaneous": size,
        "latency_per_call_ms": latency_ms,
        "accounts_created": accounts,
        "p50_ms": round(statistics.median(timings), 1),
        "p99_ms": round(percentile(timings, 99), 1),
    }


def bulk(stack: Stack, users: int, parallel: int, latency_ms: float) -> dict:
    stack.sim("config", latency_ms=latency_ms)
    path = Path(tempfile.mkdtemp()) / "users.csv"
    rows = ["id,email,first_name,last_name"]
    rows += [
        f"bulk-{i},bulk-{i}-{uuid.uuid4().hex[:6]}@example.edu,Bulk,User{i}" for i in range(users)
    ]
    path.write_text("\n".join(rows) + "\n")
    started = time.perf_counter()
    summary = json.loads(
        stack.cli(
            "users", "import", str(path), "--host", stack.host["id"], "--parallel", str(parallel)
        )
    )
    elapsed = time.perf_counter() - started
    stack.sim("config", latency_ms=0)
    return {
        "users": users,
        "latency_per_call_ms": latency_ms,
        "parallelism": parallel,
        "created": summary["created"],
        "failed": summary["failed"],
        "seconds": round(elapsed, 1),
        "users_per_second": round(users / elapsed, 1),
    }


def machine() -> dict:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem, 1),
        "python": platform.python_version(),
        "database": "PostgreSQL (127.0.0.1)",
    }


def serving() -> dict:
    """What the Procfile's web command runs, read from its own configuration."""
    from gateway import gunicorn_conf

    return {"command": "Procfile web", "worker_class": gunicorn_conf.worker_class}


def one_dialect(dialect: str, args) -> dict:
    stack = Stack(args.workers, dialect=dialect)
    try:
        return {
            # Latency-sensitive phases first: the warm runs leave PostgreSQL with WAL to
            # checkpoint and tables to vacuum, which would slow what follows.
            "cold": cold(stack, 30, 50),
            "herd": herd(stack, 50, 50),
            "warm": warm(stack, args.seconds, args.connections, args.rounds),
        }
    finally:
        stack.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--bulk-users", type=int, default=2000)
    parser.add_argument("--bulk-parallel", type=int, default=32)
    parser.add_argument("--dialects", default="v1,current")
    parser.add_argument("--output", default=str(ROOT / "artifacts" / "bench.json"))
    parser.add_argument(
        "--only", choices=["warm"], help="run only the warm phase (quicker, for tuning)"
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk (make bench does)")
    dialects = args.dialects.split(",")
    if args.only == "warm":
        for dialect in dialects:
            stack = Stack(args.workers, dialect=dialect)
            try:
                print(dialect, json.dumps(warm(stack, args.seconds, args.connections, args.rounds)))
            finally:
                stack.close()
        return
    report = {
        "machine": machine(),
        "gunicorn": {**serving(), "workers": args.workers},
        "dialects": {dialect: one_dialect(dialect, args) for dialect in dialects},
    }
    stack = Stack(args.workers, dialect=dialects[-1])
    try:
        report["bulk_import"] = bulk(stack, args.bulk_users, args.bulk_parallel, 20)
        report["bulk_import"]["dialect"] = stack.dialect
    finally:
        stack.close()
    Path(args.output).parent.mkdir(exist_ok=True)
    Path(args.output).write_text(json.dumps(report, indent=2))
    print_table(report)
    print(f"\nwritten to {args.output}")


WARM_ROWS = (
    ("bare", "bare Flask endpoint"),
    ("read", "bare + one SELECT 1"),
    ("write", "bare + one durable INSERT"),
    ("embed_page", "embed page (GET /embed/..)"),
    ("launch", "warm launch (POST /launch)"),
)


def print_table(report: dict) -> None:
    g = report["gunicorn"]
    print(
        f"\nmachine: {report['machine']['cpu']}, {report['machine']['cores']} cores; "
        f"gunicorn ({g['command']}) {g['workers']} {g['worker_class']} workers; PostgreSQL"
    )
    for dialect, d in report["dialects"].items():
        w = d["warm"]
        print(
            f"\n{'warm, ' + dialect + ' (wrk, keep-alive)':<34}{'req/s':>8}{'p50 ms':>8}"
            f"{'p99 ms':>8}{'vs bare':>9}{'CPU us/req':>12}{'errors':>8}"
        )
        for name, label in WARM_ROWS:
            r = w[name]
            cpu = f"{r['gateway_cpu_us']:.0f}+{r['postgres_cpu_us']:.0f}"
            print(
                f"{label:<34}{r['rps']:>8.0f}{r['p50_ms']:>8.2f}{r['p99_ms']:>8.2f}"
                f"{r['vs_bare']:>9.2f}{cpu:>12}{r['errors']:>8}"
            )
        print("(CPU: gunicorn workers + PostgreSQL, per request; vs bare: median of round ratios)")
        print(f"CoCalc calls during the warm runs: {w['cocalc_calls_during_warm_runs']}")
        if any(w[name]["errors"] for name, _ in WARM_ROWS):
            print("WARNING: some requests failed; these figures are not valid")
        c, h = d["cold"], d["herd"]
        print(
            f"cold launch, {c['latency_per_call_ms']:.0f} ms per CoCalc call (a measured round"
            f" trip: {c['round_trip_ms']} ms): p50 {c['p50_ms']} ms, p99 {c['p99_ms']} ms (goal:"
            f" at most {c['target_ms']:.0f} ms = 2 round trips + 150 ms)"
        )
        print(
            f"herd of {h['simultaneous']} first launches of one user: {h['accounts_created']} "
            f"account(s), p50 {h['p50_ms']} ms, p99 {h['p99_ms']} ms"
        )
    b = report["bulk_import"]
    print(
        f"\nbulk import ({b['dialect']}) of {b['users']} users, {b['latency_per_call_ms']:.0f} ms"
        f" per call, parallelism {b['parallelism']}: {b['users_per_second']} users/s "
        f"({b['seconds']} s, {b['created']} created, {b['failed']} failed)"
    )


if __name__ == "__main__":
    main()
