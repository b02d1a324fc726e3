"""Two SQLite writers in one gevent worker, as gunicorn's gevent workers run them.

Run as its own process (it monkey-patches like gunicorn does): ``python -m
tests.serving.sqlite_writers DATABASE_FILE``. The first writer yields inside its
transaction (as a request does when it touches a patched socket or lock); the second
asks for the write lock meanwhile; a third greenlet ticks every 10 ms. Prints JSON: the
longest gap between ticks, and how each writer ended.
"""

from gevent import monkey

monkey.patch_all()

import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import gevent  # noqa: E402
from sqlalchemy import text  # noqa: E402

from gateway.store.database import make_engine  # noqa: E402


def main(path: str) -> None:
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE IF NOT EXISTS t (n INTEGER)"))
    ended, gaps = {}, []

    def first():
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO t VALUES (1)"))
            gevent.sleep(0.5)
        ended["first"] = "ok"

    def second():
        gevent.sleep(0.05)
        began = time.monotonic()
        try:
            with engine.begin() as connection:
                connection.execute(text("INSERT INTO t VALUES (2)"))
            ended["second"] = f"ok after {time.monotonic() - began:.2f} s"
        except Exception as exc:
            ended["second"] = f"{type(exc).__name__} after {time.monotonic() - began:.2f} s"

    def ticker():
        last = time.monotonic()
        for _ in range(150):
            gevent.sleep(0.01)
            now = time.monotonic()
            gaps.append(now - last)
            last = now

    gevent.joinall([gevent.spawn(first), gevent.spawn(second), gevent.spawn(ticker)])
    print(json.dumps({"longest_stall_s": round(max(gaps), 3), "writers": ended}))


if __name__ == "__main__":
    main(sys.argv[1])
