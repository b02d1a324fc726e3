"""The database going away and coming back: the next requests reconnect."""

from __future__ import annotations

from sqlalchemy import text

from gateway import hosts
from gateway.support import concurrency
from gateway.web import current
from tests.conftest import empty_postgres, make_app
from tests.launching import mint


def test_launches_reconnect_after_postgresql_dropped_every_connection(sim, postgres_url):
    empty_postgres(postgres_url)
    app = make_app(sim, postgres_url)
    gw = app.extensions["gateway"]
    host, secret = hosts.add(gw, "Course", ["https://lms.example.edu"])
    client = app.test_client()

    def launch(sub):
        return client.post("/launch", data={"token": mint(host.id, secret, sub=sub)})

    for i in range(3):  # fill both pools with connections, cold and warm
        assert launch(f"u{i % 2}").status_code == 303
    concurrency.wait_idle()
    with gw.db.engine.connect() as connection:
        name = connection.execute(text("SELECT current_database()")).scalar()
    import psycopg

    from tests.conftest import PG_ADMIN_URL

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        )
    statuses = [launch(f"u{i % 3}").status_code for i in range(10)]
    assert statuses == [303] * 10
    page = launch("u0").headers["Location"]
    assert client.get(page.removeprefix("http://127.0.0.1")).status_code == 200
    concurrency.wait_idle()
    current.close(app)
