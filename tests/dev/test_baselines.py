"""The benchmark's baseline endpoints, served only when asked."""

from __future__ import annotations

from gateway.web import current
from tests.conftest import make_app


def test_bench_baselines_only_when_asked(sim, database_url):
    from sqlalchemy import func, select

    from gateway.store.models import Lock

    plain = make_app(sim, database_url)
    assert plain.test_client().get("/_bench/bare").status_code == 404
    current.close(plain)
    app = make_app(sim, database_url, GATEWAY_BENCH_ENDPOINT=True)
    client = app.test_client()
    assert client.get("/_bench/bare").get_data(as_text=True) == "ok"
    assert client.get("/_bench/read").get_data(as_text=True) == "1"
    for _ in range(2):
        assert client.get("/_bench/write").status_code == 200
    with app.extensions["gateway"].db.begin() as session:
        assert session.scalar(select(func.count()).select_from(Lock)) == 2
    current.close(app)
