"""A class starts: N new users of one course arriving at random over a minute, CoCalc
answering each API call in 50 ms and taking a second to create a project; then the same
class once more, provisioned ahead (``users import --tokens``, as ``lti roster sync`` does).

For each run: the time from the launch to the embed page (``POST /launch``, its 303, and the
page), p50/p95/p99; CoCalc's calls per user; and that every user got exactly one account and
one project. The gateway runs under the Procfile's own command (2 gevent workers) on
PostgreSQL; the simulator runs in a process of its own. ``python -m bench.class_start``
writes ``artifacts/bench-class-start.json`` and ``docs/bench-class-start.png``.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urljoin

import psycopg
import requests

from bench.run import PG_ADMIN_URL, ROOT, Stack, percentile, round_trip_ms
from tests.launching import mint

PATH = "week1/lab.ipynb"


def arrive(stack: Stack, user: str, at: float, start: float, results: list, lock) -> None:
    time.sleep(max(0.0, start + at - time.monotonic()))
    token = mint(stack.host["id"], stack.host["secret"], sub=user, path=PATH)
    with requests.Session() as http:
        began = time.perf_counter()
        launched = http.post(
            f"{stack.url}/launch", data={"token": token}, allow_redirects=False, timeout=120
        )
        ok = launched.status_code == 303
        if ok:
            page = http.get(urljoin(stack.url + "/", launched.headers["Location"]), timeout=60)
            ok = page.status_code == 200
        elapsed = (time.perf_counter() - began) * 1000
    with lock:
        results.append({"at_s": round(at, 3), "ms": round(elapsed, 1), "ok": ok})


def metric(stack: Stack, name: str, labels: str) -> float:
    text = requests.get(f"{stack.url}/metrics", timeout=10).text
    for line in text.splitlines():
        if line.startswith(f"{name}{{{labels}}}"):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def one_set_each(stack: Stack, prefix: str) -> dict:
    """Per user of the class: accounts and projects, from the gateway's rows and CoCalc's calls."""
    with psycopg.connect(PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + stack.db_name) as db:
        users, accounts = db.execute(
            "SELECT count(*), count(DISTINCT account_id) FROM host_users WHERE external_id LIKE %s",
            (prefix + "%",),
        ).fetchone()
        projects = db.execute(
            "SELECT count(*), count(DISTINCT p.project_id) FROM user_projects p JOIN host_users u"
            " ON u.id = p.user_id WHERE u.external_id LIKE %s AND p.project_id IS NOT NULL",
            (prefix + "%",),
        ).fetchone()
    return {"users": users, "accounts": accounts, "projects": projects[0], "distinct": projects[1]}


def run_class(stack: Stack, args, *, prepared: bool) -> dict:
    prefix = f"class-{uuid.uuid4().hex[:6]}-"
    users = [f"{prefix}{i}" for i in range(args.users)]
    if prepared:  # the course provisioned ahead, spare tokens included
        stack.sim("config", latency_ms=0, create_project_delay_ms=0)
        csv = Path(tempfile.mkdtemp()) / "class.csv"
        csv.write_text("id,email,first_name,last_name\n" + "".join(f"{u},,S,{u}\n" for u in users))
        stack.cli("users", "import", str(csv), "--host", stack.host["id"], "--tokens")
        settle(stack)
    stack.sim("config", latency_ms=args.latency_ms, create_project_delay_ms=args.project_ms)
    calls_before = requests.get(f"{stack.simulator.url}/_sim/calls", timeout=10).json()["calls"]
    warm_before = metric(stack, "gateway_launch_paths_total", 'path="warm"')
    arrivals = sorted(random.uniform(0, args.minute) for _ in users)
    results, lock = [], threading.Lock()
    start = time.monotonic() + 1
    with ThreadPoolExecutor(max(32, args.users // 4)) as pool:
        for user, at in zip(users, arrivals, strict=True):
            pool.submit(arrive, stack, user, at, start, results, lock)
    settle(stack)
    calls_after = requests.get(f"{stack.simulator.url}/_sim/calls", timeout=10).json()["calls"]
    calls = {k: v - calls_before.get(k, 0) for k, v in calls_after.items()}
    calls = {k: v for k, v in calls.items() if v}
    stack.sim("config", latency_ms=0, create_project_delay_ms=0)
    times = [r["ms"] for r in results]
    return {
        "prepared": prepared,
        "users": args.users,
        "failed": sum(not r["ok"] for r in results),
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(percentile(times, 95), 1),
        "p99_ms": round(percentile(times, 99), 1),
        "cocalc_calls_per_user": round(sum(calls.values()) / args.users, 2),
        "cocalc_calls": calls,
        "warm_launches": metric(stack, "gateway_launch_paths_total", 'path="warm"') - warm_before,
        "rows": one_set_each(stack, prefix),
        "arrivals": sorted(results, key=lambda r: r["at_s"]),
    }


def settle(stack: Stack) -> None:
    from bench.run import settle_background_work

    settle_background_work(stack)


def one_dialect(dialect: str, args) -> dict:
    metrics_dir = tempfile.mkdtemp()
    stack = Stack(args.workers, dialect=dialect, env={"PROMETHEUS_MULTIPROC_DIR": metrics_dir})
    try:
        stack.sim("config", latency_ms=args.latency_ms)
        round_trip = round_trip_ms(stack)
        stack.sim("config", latency_ms=0)
        cold = run_class(stack, args, prepared=False)
        ahead = run_class(stack, args, prepared=True)
    finally:
        stack.close()
    goal = 2 * round_trip + args.project_ms + 300
    return {
        "round_trip_ms": round(round_trip, 1),
        "cold": {**cold, "goal_p95_ms": round(goal, 1)},
        "prepared": {**ahead, "goal_p95_ms": 50.0},
    }


def chart(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    dialects = list(report["dialects"])
    figure, axes = plt.subplots(1, len(dialects), figsize=(10, 4.2), dpi=120, squeeze=False)
    for axis, dialect in zip(axes[0], dialects, strict=True):
        for kind, colour in (("cold", "tab:red"), ("prepared", "tab:green")):
            run = report["dialects"][dialect][kind]
            xs = [r["at_s"] for r in run["arrivals"]]
            ys = [r["ms"] for r in run["arrivals"]]
            who = "new users" if kind == "cold" else "provisioned ahead"
            label = f"{who} (p95 {run['p95_ms']:.0f} ms)"
            axis.scatter(xs, ys, s=8, alpha=0.7, color=colour, label=label)
        axis.axhline(
            report["dialects"][dialect]["cold"]["goal_p95_ms"], color="tab:red", lw=0.8, ls="--"
        )
        axis.set_yscale("log")
        axis.set_xlabel("arrival in the minute (s)")
        axis.set_ylabel("launch to embed page (ms)")
        axis.set_title(f"{dialect} API", fontsize=10)
        axis.legend(fontsize=8, loc="center right")
        axis.grid(alpha=0.3)
    s = report["settings"]
    figure.suptitle(
        f"A class starts: {s['users']} users over {s['minute']} s, {s['latency_ms']:.0f} ms per "
        f"CoCalc call, {s['project_ms']:.0f} ms per project creation",
        fontsize=10,
    )
    figure.tight_layout()
    figure.savefig(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=300)
    parser.add_argument("--minute", type=float, default=60)
    parser.add_argument("--latency-ms", type=float, default=50)
    parser.add_argument("--project-ms", type=float, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--dialects", default="v1,current")
    parser.add_argument("--output", default=str(ROOT / "artifacts" / "bench-class-start.json"))
    parser.add_argument("--chart", default=str(ROOT / "docs" / "bench-class-start.png"))
    args = parser.parse_args()
    random.seed(7)
    report = {
        "settings": {
            "users": args.users,
            "minute": args.minute,
            "latency_ms": args.latency_ms,
            "project_ms": args.project_ms,
            "workers": args.workers,
        },
        "dialects": {d: one_dialect(d, args) for d in args.dialects.split(",")},
    }
    Path(args.output).parent.mkdir(exist_ok=True)
    Path(args.output).write_text(json.dumps(report, indent=2))
    chart(report, Path(args.chart))
    for dialect, result in report["dialects"].items():
        for kind in ("cold", "prepared"):
            r = result[kind]
            print(
                f"{dialect:<8}{kind:<9} p50 {r['p50_ms']:>7} p95 {r['p95_ms']:>7} p99 "
                f"{r['p99_ms']:>7} ms (goal p95 <= {r['goal_p95_ms']:.0f}); calls/user "
                f"{r['cocalc_calls_per_user']}; warm {r['warm_launches']:.0f}; failed "
                f"{r['failed']}; rows {r['rows']}"
            )
    print(f"\nwritten to {args.output} and {args.chart}")


if __name__ == "__main__":
    main()
