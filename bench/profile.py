"""Where a warm current-API launch and a token refill spend the gateway's CPU, in-process.

``python -m bench.profile`` sets up ``--users`` users on the current API with revocation on
(PostgreSQL, the simulator in a process of its own answering at once), then:

- **launch**: each user's warm ``POST /launch`` through the app (signed token, a spare
  waiting), with the refill it would start held back, so the figure is the launch alone;
- **refill**: each user's refill run on its own (one CoCalc call, one INSERT).

For each, it prints the CPU per call (``time.process_time``, one thread, nothing else
running in the process) and the top entries of a cProfile by own time, and writes them to
``artifacts/bench-profile.json``. The figures are the process's CPU, a lower bound of what
a gevent worker spends (it adds the loop's own work).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import secrets
import time
import uuid
from contextlib import contextmanager

import psycopg
from sqlalchemy import delete, select

from bench.run import PG_ADMIN_URL, ROOT, free_port
from bench.simulator_process import SimulatorProcess
from gateway import hosts
from gateway.app import create_app
from gateway.provisioning import tokens
from gateway.store import migrate
from gateway.store.models import HostUser, SpareToken
from gateway.support import concurrency
from gateway.web import current
from tests.launching import mint

ADMIN_KEY = "sk_profile_" + secrets.token_hex(12)


@contextmanager
def database():
    name = f"gateway_profile_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
        finally:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def profiled(label: str, calls: int, run) -> dict:
    profile = cProfile.Profile(time.process_time)  # CPU, not the waits
    began = time.process_time()
    profile.enable()
    run()
    profile.disable()
    cpu_us = (time.process_time() - began) / calls * 1e6
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out).sort_stats("tottime")
    top = []
    for (path, line, func), (_, ncalls, tottime, cumtime, _) in list(stats.stats.items()):
        where = f"{path.replace(str(ROOT) + '/', '')}:{line}({func})"
        top.append((tottime, ncalls, cumtime, where))
    top.sort(reverse=True)
    return {
        "label": label,
        "calls": calls,
        # cProfile's own overhead inflates this: the caller times it again without it.
        "cpu_us_per_call_under_profile": round(cpu_us),
        "top_by_own_time": [
            {
                "function": where,
                "calls_per_call": round(ncalls / calls, 2),
                "own_us_per_call": round(tottime / calls * 1e6, 1),
                "cumulative_us_per_call": round(cumtime / calls * 1e6, 1),
            }
            for tottime, ncalls, cumtime, where in top[:25]
        ],
    }


def cpu_per_call(calls: int, run) -> float:
    began = time.process_time()
    run()
    return round((time.process_time() - began) / calls * 1e6)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--output", default="artifacts/bench-profile.json")
    args = parser.parse_args()
    port = free_port()
    simulator = SimulatorProcess(
        port, {"dialect": "current", "admin_key": ADMIN_KEY, "account_rate_limit": None}
    )
    try:
        with database() as url:
            report = measure(simulator.url, url, args.users)
    finally:
        simulator.stop()
    path = ROOT / args.output
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n")
    for part in ("launch", "refill"):
        found = report[part]
        print(f"\n{part}: {found['cpu_us_per_call']} µs of CPU per call")
        for entry in found["top_by_own_time"][:25]:
            print(
                f"  {entry['own_us_per_call']:8.1f} µs own  {entry['cumulative_us_per_call']:8.1f}"
                f" µs cum  x{entry['calls_per_call']:<5} {entry['function']}"
            )


def measure(cocalc_url: str, database_url: str, users: int) -> dict:
    app = create_app(
        {
            "COCALC_URL": cocalc_url,
            "COCALC_API_KEY": ADMIN_KEY,
            "COCALC_API_DIALECT": "current",
            "DATABASE_URL": database_url,
            "GATEWAY_SECRET_KEY": secrets.token_urlsafe(32),
            "GATEWAY_PUBLIC_URL": "http://127.0.0.1",
            "GATEWAY_HOUSEKEEPING_INTERVAL": 0,
            "GATEWAY_LOG_LEVEL": "WARNING",
        }
    )
    migrate.upgrade(app.extensions["db"].engine)
    gw = app.extensions["gateway"]
    host, secret = hosts.add(gw, "Profile", [])
    client = app.test_client()

    def launch_all():
        for i in range(users):
            reply = client.post("/launch", data={"token": mint(host.id, secret, sub=f"p{i}")})
            assert reply.status_code == 303, reply.status_code

    launch_all()  # cold: accounts, projects, a spare each
    concurrency.wait_idle()
    launch_all()  # warm once, so every statement is prepared and every pool warm
    concurrency.wait_idle()

    held = []
    real_refill = tokens.refill
    tokens.refill = lambda gw, user_id, account_id=None: held.append((user_id, account_id))
    try:
        # The tokens are minted before, since the host's own signing is not the gateway's.
        forms = [{"token": mint(host.id, secret, sub=f"p{i}")} for i in range(users)]

        def warm_launches():
            for form in forms:
                assert client.post("/launch", data=form).status_code == 303

        launch = profiled("launch", users, warm_launches)
        forms = [{"token": mint(host.id, secret, sub=f"p{i}")} for i in range(users)]
        _fill_all(gw, real_refill)  # every user has a spare again
        held.clear()
        launch["cpu_us_per_call"] = cpu_per_call(users, warm_launches)
    finally:
        tokens.refill = real_refill
    ids = gw.db.fetch_all(select(HostUser.id, HostUser.account_id))
    with gw.db.engine.begin() as connection:
        connection.execute(delete(SpareToken))

    def refills():
        for user_id, account_id in ids:
            tokens._fill(gw, user_id, account_id)

    refill = profiled("refill", len(ids), refills)
    with gw.db.engine.begin() as connection:
        connection.execute(delete(SpareToken))
    refill["cpu_us_per_call"] = cpu_per_call(len(ids), refills)
    current.close(app)
    return {"users": users, "launch": launch, "refill": refill}


def _fill_all(gw, refill) -> None:
    for user_id, account_id in gw.db.fetch_all(select(HostUser.id, HostUser.account_id)):
        refill(gw, user_id, account_id)
    concurrency.wait_idle()


if __name__ == "__main__":
    main()
