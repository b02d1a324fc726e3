"""The migrations build exactly the tables the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from gateway.store import migrate
from gateway.store.tables import metadata


def differences(url: str) -> list:
    engine = create_engine(url)
    migrate.upgrade(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        found = compare_metadata(context, metadata)
    engine.dispose()
    return found


def test_migrations_match_the_models(database_url):
    assert differences(database_url) == []


def test_a_host_s_template_path_becomes_a_list(blank_sqlite_url):
    from sqlalchemy import text

    engine = create_engine(blank_sqlite_url)
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


def test_pages_get_their_place_and_sessions_their_pages_as_rows(blank_sqlite_url):
    """0006: a framed page stays framed; a top-level page of before (bound to nothing)
    becomes a top-level page no browser can open; a session's pages become SSO pages."""
    from sqlalchemy import text

    engine = create_engine(blank_sqlite_url)
    migrate.upgrade(engine, "0005")
    rows = [
        "INSERT INTO hosts (id, name, secret_encrypted, secret_digest, origins, template_paths,"
        " created_at) VALUES ('host_0000000000000001', 'n', 'x', 'd', '[]', '[]',"
        " '2026-01-01 00:00:00')",
        "INSERT INTO host_users (id, host_id, external_id, cocalc_email, first_name, last_name,"
        " password_encrypted, created_at) VALUES (1, 'host_0000000000000001', 'u', 'e@x', 'A',"
        " 'B', 'p', '2026-01-01 00:00:00')",
        "INSERT INTO user_projects (id, user_id, context, template_copied, collaborator_added)"
        " VALUES (1, 1, '', false, false)",
        "INSERT INTO sso_providers (id, host_id, issuer, client_id, client_secret_encrypted,"
        " scope, endpoints, created_at) VALUES ('sso_1', 'host_0000000000000001', 'i', 'c', 's',"
        " 'openid', '{}', '2026-01-01 00:00:00')",
        "INSERT INTO sso_sessions (digest, host_id, provider_id, user_id, pages, created_at,"
        " expires_at) VALUES ('session', 'host_0000000000000001', 'sso_1', 1, '[\"sso-page\"]',"
        " '2026-01-01 00:00:00', '2026-01-01 08:00:00')",
    ]
    pages = {"framed": False, "top": True, "sso-page": True}
    with engine.begin() as connection:
        for statement in rows:
            connection.execute(text(statement))
        for page, top_level in pages.items():
            connection.execute(
                text(
                    "INSERT INTO launches (digest, kind, host_id, user_id, user_project_id, path,"
                    " expires_at, top_level) VALUES (:d, 'embed', 'host_0000000000000001', 1, 1,"
                    " '', '2026-01-01 01:00:00', :t)"
                ),
                {"d": page, "t": top_level},
            )
    migrate.upgrade(engine)
    with engine.connect() as connection:
        found = {
            row.digest: (row.kind, row.binding_digest)
            for row in connection.execute(text("SELECT digest, kind, binding_digest FROM launches"))
        }
    engine.dispose()
    assert found == {
        "framed": ("embed", None),
        "top": ("top", None),
        "sso-page": ("sso", "session"),
    }


def test_every_table_of_the_models_is_listed():
    """No table joins the gateway's by being imported: ``store.tables`` names each one."""
    from gateway.store.models import Base
    from gateway.store.tables import MODELS

    assert set(Base.metadata.tables) == set(metadata.tables)
    assert {model.__tablename__ for model in MODELS} == set(metadata.tables)


def test_an_open_lti_page_keeps_what_it_shows_across_0011(blank_sqlite_url):
    """0011: an open page's project and what it shows move into its own row."""
    from sqlalchemy import text

    engine = create_engine(blank_sqlite_url)
    migrate.upgrade(engine, "0010")
    statements = [
        "INSERT INTO hosts (id, name, secret_encrypted, secret_digest, origins, template_paths,"
        " created_at) VALUES ('host_0000000000000001', 'n', 'x', 'd', '[]', '[]',"
        " '2026-01-01 00:00:00')",
        "INSERT INTO host_users (id, host_id, external_id, cocalc_email, first_name, last_name,"
        " password_encrypted, created_at) VALUES (1, 'host_0000000000000001', 'u', 'c@x.invalid',"
        " 'A', 'B', 'p', '2026-01-01 00:00:00')",
        "INSERT INTO user_projects (id, user_id, context, project_id, template_copied,"
        " collaborator_added) VALUES (1, 1, '', 'p-1', 1, 1)",
        "INSERT INTO lti_platforms (id, host_id, issuer, client_id, deployment_ids, login_url,"
        " token_url, jwks_url, algorithms, created_at) VALUES ('plat_1', 'host_0000000000000001',"
        " 'i', 'c', '[]', 'l', 't', 'j', '[]', '2026-01-01 00:00:00')",
        "INSERT INTO launches (digest, kind, host_id, user_id, user_project_id, path, expires_at)"
        " VALUES ('open', 'embed', 'host_0000000000000001', 1, 1, 'a.ipynb', '2999-01-01')",
        "INSERT INTO launches (digest, kind, host_id, user_id, user_project_id, path, expires_at)"
        " VALUES ('closed', 'embed', 'host_0000000000000001', 1, 1, 'a.ipynb', '2000-01-01')",
        "INSERT INTO lti_pages (launch_digest, platform_id, return_url, platform_family,"
        " learner_name, may_grade) VALUES ('open', 'plat_1', 'https://lms/back', 'canvas',"
        " 'Ada', 1)",
        "INSERT INTO lti_grade_links (launch_digest, platform_id, subject, scopes) VALUES"
        " ('open', 'plat_1', 's', '[]')",
    ]
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement))
    migrate.upgrade(engine)
    with engine.connect() as connection:
        rows = dict(connection.execute(text("SELECT digest, shown FROM launches")).all())
        projects = set(connection.execute(text("SELECT project_id FROM launches")).scalars())
    engine.dispose()
    import json

    shown = json.loads(rows["open"])
    assert shown["gradable"] and shown["back_url"] == "https://lms/back"
    assert shown["lti"]["family"] == "canvas" and shown["review"]["learner"] == "Ada"
    assert rows["closed"] is None and projects == {"p-1"}


def test_the_autograders_scores_are_marked_across_0014(blank_sqlite_url):
    """0014: a score the autograder posted (told apart by its comment until then) is marked
    as the autograder's; a teacher's stays unmarked, and so wins over the next run."""
    from sqlalchemy import text

    engine = create_engine(blank_sqlite_url)
    migrate.upgrade(engine, "0013")
    statements = [
        "INSERT INTO hosts (id, name, secret_encrypted, secret_digest, origins, template_paths,"
        " created_at) VALUES ('host_0000000000000001', 'n', 'x', 'd', '[]', '[]',"
        " '2026-01-01 00:00:00')",
        "INSERT INTO lti_platforms (id, host_id, issuer, client_id, deployment_ids, login_url,"
        " token_url, jwks_url, algorithms, created_at) VALUES ('plat_1', 'host_0000000000000001',"
        " 'i', 'c', '[]', 'l', 't', 'j', '[]', '2026-01-01 00:00:00')",
        "INSERT INTO lti_scores (platform_id, lineitem_digest, subject, lineitem_url,"
        " score_given, score_maximum, comment) VALUES ('plat_1', 'd', 'auto', 'u', 1, 2,"
        " 'Autograded (otter): 1 of 2')",
        "INSERT INTO lti_scores (platform_id, lineitem_digest, subject, lineitem_url,"
        " score_given, score_maximum, comment) VALUES ('plat_1', 'd', 'teacher', 'u', 2, 2,"
        " 'well done')",
    ]
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement))
    migrate.upgrade(engine)
    with engine.connect() as connection:
        marked = dict(connection.execute(text("SELECT subject, autograded FROM lti_scores")).all())
    engine.dispose()
    assert marked == {"auto": 1, "teacher": None}
