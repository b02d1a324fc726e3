"""A separate process that launches one user from many threads (the two-process herd test).

Usage: python -m tests.herd CONFIG_JSON USER_ID THREADS; prints the account ids it saw.
"""

from __future__ import annotations

import json
import sys
from concurrent.futures import ThreadPoolExecutor

from gateway import create_app, hosts, provisioning
from gateway.provisioning import UserProfile


def main() -> None:
    config, user_id, threads = json.loads(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    app = create_app(config)
    gw = app.extensions["gateway"]
    host = hosts.get(gw, config["HOST_ID"])
    with ThreadPoolExecutor(threads) as pool:
        results = list(
            pool.map(
                lambda _: provisioning.provision(gw, host, UserProfile(user_id)), range(threads)
            )
        )
    print(json.dumps(sorted({r.account_id for r in results} | {r.project_id for r in results})))


if __name__ == "__main__":
    main()
