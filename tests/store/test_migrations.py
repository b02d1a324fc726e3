"""The migrations build exactly the tables the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from gateway.store import migrate
from gateway.store.models import Base


def differences(url: str) -> list:
    engine = create_engine(url)
    migrate.upgrade(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        found = compare_metadata(context, Base.metadata)
    engine.dispose()
    return found


def test_migrations_match_the_models(database_url):
    assert differences(database_url) == []


def test_a_host_s_template_path_becomes_a_list(sqlite_url):
    from sqlalchemy import text

    engine = create_engine(sqlite_url)
    migrate.upgrade(engine, "0003")
    with engine.begin() as connection:
        for host_id, path in (("host_0000000000000001", "course"), ("host_0000000000000002", None)):
            connection.execute(
                text(
                    "INSERT INTO hosts (id, name, secret_encrypted, secret_digest, origins, "
                    "template_path, created_at) VALUES (:id, 'n', 'x', :id, '[]', :path, "
                    "'2026-01-01 00:00:00')"
                ),
                {"id": host_id, "path": path},
            )
    migrate.upgrade(engine)
    with engine.connect() as connection:
        found = dict(connection.execute(text("SELECT id, template_paths FROM hosts")).all())
    engine.dispose()
    assert found == {"host_0000000000000001": '["course"]', "host_0000000000000002": "[]"}
