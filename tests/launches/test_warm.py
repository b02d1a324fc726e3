"""Warm launches on PostgreSQL: one statement, and the same rules as the general path."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import bindparam, delete, event, func, insert, select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from gateway import create_app, hosts, provisioning
from gateway.launches import warm
from gateway.provisioning import UserProfile, readiness, tokens
from gateway.store.database import CompiledStatement, Database
from gateway.store.models import (
    CachedToken,
    HostUser,
    Launch,
    Lock,
    SpareToken,
    UsedTokenId,
    UserProject,
    utcnow,
)
from gateway.support import concurrency
from gateway.web import current
from tests.conftest import app_lifetime, empty_postgres, gateway_config, make_app
from tests.launching import OWN_PAGE, calls_waited_on, mint

HOST_ORIGIN = "https://lms.example.edu"

pytestmark = pytest.mark.both_dialects


@pytest.fixture
def app(sim, postgres_url):
    """The conftest's app, on PostgreSQL (``gw`` and ``client`` follow)."""
    empty_postgres(postgres_url)
    yield from app_lifetime(make_app(sim, postgres_url))


@pytest.fixture
def host(gw):
    host, secret = hosts.add(gw, "Course", [HOST_ORIGIN])
    host.secret = secret
    return host


def user_id(gw) -> int:
    with gw.db.begin() as session:
        return session.scalar(select(HostUser.id))


def count(gw, model) -> int:
    with gw.db.begin() as session:
        return session.scalar(select(func.count()).select_from(model))


def token_model(gw):
    """Where a page's token waits: a spare (revocation), or the user's shared cached one."""
    return SpareToken if tokens.revocation_enabled(gw) else CachedToken


def signed_in_cold_launch(client, host):
    """A first launch whose page signed in; with revocation its spare token is refilled."""
    first = post_launch(client, host, sub="w")
    assert first.status_code == 303
    assert (
        client.post(first.headers["Location"] + "/signed-in", headers=OWN_PAGE).status_code == 204
    )
    concurrency.wait_idle()


def post_launch(client, host, **claims):
    return client.post("/launch", data={"token": mint(host.id, host.secret, **claims)})


PROFILE = UserProfile("w")


def warm_attempt(gw, host, jti="j-1", context="", profile=PROFILE):
    """The one statement, called directly: returns what it found, or None."""
    return warm.launch(
        gw.db,
        host=hosts.get(gw, host.id, fresh=True),
        profile=profile,
        context=context,
        path="",
        jti=jti,
        jti_expires_at=utcnow() + timedelta(days=1),
        digest=f"d-{jti}",
        token_margin=tokens.margin(gw),
        embed_lifetime=None,
        take_token=tokens.revocation_enabled(gw),
    )


class StatementCounter:
    """Counts statements sent through SQLAlchemy and through Database.run."""

    def __init__(self, gw, monkeypatch):
        self.core, self.raw = 0, 0
        self.engines = [gw.db.engine, gw.db.single_statements]
        for engine in self.engines:
            event.listen(engine, "before_cursor_execute", self._core)
        real_run = gw.db.run

        def run(sql, params):
            self.raw += 1
            return real_run(sql, params)

        monkeypatch.setattr(gw.db, "run", run)

    def _core(self, *args):
        self.core += 1

    def close(self):
        for engine in self.engines:
            event.remove(engine, "before_cursor_execute", self._core)


def test_a_warm_launch_is_one_statement_and_no_cocalc_call(app, gw, host, sim, monkeypatch):
    client = app.test_client()
    with calls_waited_on(sim.url) as cold:
        signed_in_cold_launch(client, host)
    assert len(cold) >= 3  # the cold launch waits on its set-up calls, and the count sees them
    sim.reset()
    counter = StatementCounter(gw, monkeypatch)
    with calls_waited_on(sim.url) as waited_on:
        reply = post_launch(client, host, sub="w", path="work/a.md")
    counter.close()
    assert reply.status_code == 303
    assert (counter.raw, counter.core) == (1, 0)
    assert waited_on == []
    page = client.get(reply.headers["Location"])
    assert page.status_code == 200 and "work/a.md" in page.get_data(as_text=True)
    assert count(gw, UsedTokenId) == 2 and count(gw, Launch) == 2
    concurrency.wait_idle()
    if tokens.revocation_enabled(gw):  # the warm page took the spare; the next is made
        assert sim.calls() == {"system.generateUserAuthToken": 1}


def test_a_launch_that_finds_no_cached_token_makes_one_call(app, gw, host, sim, monkeypatch):
    """With revocation: the user launched again before their spare came back. The launch
    is not warm, but the user is set up: the page asks for its own token (one call), runs
    none of the set-up steps or their locks, and the refill follows. Without revocation
    the one token fetched is cached, and every later page shares it."""
    client = app.test_client()
    signed_in_cold_launch(client, host)
    with gw.db.begin() as session:  # the spare is still on its way (or the token expired)
        session.execute(delete(token_model(gw)))
    sim.reset()
    request_thread, sent, asked = threading.current_thread(), [], []
    client_of_cocalc = gw.cocalc
    real_user_auth = client_of_cocalc.user_auth

    def record(conn, cursor, statement, *args):
        if threading.current_thread() is request_thread:
            sent.append(statement)

    def user_auth(*args):
        asked.append(threading.current_thread() is request_thread)
        return real_user_auth(*args)

    monkeypatch.setattr(client_of_cocalc, "user_auth", user_auth)
    event.listen(gw.db.engine, "before_cursor_execute", record)
    try:
        reply = post_launch(client, host, sub="w")
    finally:
        event.remove(gw.db.engine, "before_cursor_execute", record)
    assert reply.status_code == 303
    concurrency.wait_idle()
    assert count(gw, token_model(gw)) == 1
    if tokens.revocation_enabled(gw):
        assert not [s for s in sent if "advisory" in s or s.startswith("INSERT INTO host_users")]
        assert sorted(asked) == [False, True]  # one call for the page, one for the next spare
    else:
        assert asked == [True]  # fetched for the page and cached: no refill
        sim.reset()
        assert post_launch(client, host, sub="w").status_code == 303
        assert sim.total_calls() == 0  # the next page shares it


def test_the_page_of_a_warm_launch_is_like_a_cold_one(app, gw, host):
    client = app.test_client()
    post_launch(client, host, sub="w")
    post_launch(client, host, sub="w")
    with gw.db.begin() as session:
        cold, hot = session.scalars(select(Launch).order_by(Launch.expires_at)).all()
        cached = session.get(CachedToken, cold.user_id)
    assert (hot.kind, hot.host_id, hot.user_id) == ("embed", cold.host_id, cold.user_id)
    assert hot.user_project_id == cold.user_project_id
    if tokens.revocation_enabled(gw):  # each page took a token of its own
        assert gw.box.decrypt(hot.token_encrypted) != gw.box.decrypt(cold.token_encrypted)
    else:  # v1: the user's one cached token, until close to its expiry
        assert gw.box.decrypt(hot.token_encrypted) == gw.box.decrypt(cached.token_encrypted)
        assert hot.expires_at == cached.expires_at


def test_a_token_used_twice_on_the_warm_path(app, gw, host):
    client = app.test_client()
    signed_in_cold_launch(client, host)
    token = mint(host.id, host.secret, sub="w")
    assert client.post("/launch", data={"token": token}).status_code == 303
    again = client.post("/launch", data={"token": token})
    assert again.status_code == 401 and "already been used" in again.get_data(as_text=True)
    assert count(gw, Launch) == 2
    # With revocation each page takes a spare: put one back before each attempt.
    concurrency.wait_idle()
    tokens.prepare(gw, user_id(gw))
    assert warm_attempt(gw, host, jti="same") is not None
    tokens.prepare(gw, user_id(gw))
    with pytest.raises(IntegrityError):
        warm_attempt(gw, host, jti="same")


def test_the_embed_lifetime_caps_a_warm_page(sim, postgres_url):
    empty_postgres(postgres_url)
    app = make_app(sim, postgres_url, GATEWAY_EMBED_LIFETIME=120)
    gw = app.extensions["gateway"]
    host, secret = hosts.add(gw, "Course", [HOST_ORIGIN])
    client = app.test_client()
    for _ in range(2):  # cold, then warm
        client.post("/launch", data={"token": mint(host.id, secret, sub="w")})
    with gw.db.begin() as session:
        expiries = session.scalars(select(Launch.expires_at)).all()
    assert len(expiries) == 2
    assert all(timedelta(seconds=100) < e - utcnow() <= timedelta(seconds=120) for e in expiries)
    concurrency.wait_idle()
    current.close(app)


def _no_token(gw, host):
    with gw.db.begin() as session:
        session.execute(delete(token_model(gw)))


def _token_near_expiry(gw, host):
    with gw.db.begin() as session:
        soon = utcnow() + tokens.margin(gw) - timedelta(seconds=5)
        session.execute(update(token_model(gw)).values(expires_at=soon))


def _not_a_collaborator_yet(gw, host):
    with gw.db.begin() as session:
        session.execute(update(UserProject).values(collaborator_added=False))


def _template_not_copied(gw, host):
    with gw.db.begin() as session:
        session.execute(update(UserProject).values(template_copied=False))
        stored = session.get(type(host), host.id)
        stored.template_project_id = "00000000-0000-4000-8000-000000000000"
    hosts.forget_cached(gw, host.id)


def _no_account_yet(gw, host):
    with gw.db.begin() as session:
        session.execute(update(HostUser).values(account_id=None))


def _profile_changed(gw, host):
    with gw.db.begin() as session:
        session.execute(update(HostUser).values(first_name="Someone else"))


NOT_WARM = {
    "no cached token": _no_token,
    "token too close to expiry": _token_near_expiry,
    "not yet a collaborator": _not_a_collaborator_yet,
    "template not copied": _template_not_copied,
    "account id not recorded": _no_account_yet,
    "profile changed": _profile_changed,
}

SENT = UserProfile("w", first_name="CoCalc")  # what the launch says: the default first name


def both_paths(gw, host, profile=SENT):
    """What the general path's look-up and the warm statement each say of user "w"."""
    fresh = hosts.get(gw, host.id, fresh=True)
    general = provisioning.find_ready(gw, fresh, profile, "", with_token=True)
    return general is not None, warm_attempt(gw, host, profile=profile) is not None


@pytest.mark.parametrize("state", list(NOT_WARM))
def test_a_user_not_set_up_claims_nothing_and_goes_the_general_way(app, gw, host, state):
    client = app.test_client()
    signed_in_cold_launch(client, host)
    # Before: both paths find the user ready (the general look-up claims nothing; the
    # statement's page is removed again), so the verdict below is about the change.
    fresh = hosts.get(gw, host.id, fresh=True)
    assert provisioning.find_ready(gw, fresh, SENT, "", with_token=True) is not None
    model = token_model(gw)
    with gw.db.begin() as session:
        cached = session.scalar(select(model).where(model.user_id == user_id(gw)))
        saved = (cached.token_encrypted, cached.expires_at)
    assert warm_attempt(gw, host, jti="before", profile=SENT) is not None
    with gw.db.begin() as session:
        session.execute(delete(Launch).where(Launch.digest == "d-before"))
        session.execute(delete(UsedTokenId).where(UsedTokenId.jti == "before"))
        if session.scalar(select(model).where(model.user_id == user_id(gw))) is None:
            session.add(model(user_id=user_id(gw), token_encrypted=saved[0], expires_at=saved[1]))
    NOT_WARM[state](gw, host)
    assert both_paths(gw, host) == (False, False)
    assert count(gw, UsedTokenId) == 1 and count(gw, Launch) == 1
    assert warm_attempt(gw, host, context="another course") is None


def test_both_paths_see_a_user_who_is_set_up_as_warm(app, gw, host):
    signed_in_cold_launch(app.test_client(), host)
    assert both_paths(gw, host) == (True, True)


def test_a_profile_field_the_host_leaves_out_is_no_change(app, gw, host):
    signed_in_cold_launch(app.test_client(), host)
    assert both_paths(gw, host, UserProfile("w")) == (True, True)


def test_simultaneous_warm_launches_each_get_a_page(app, gw, host, sim):
    client = app.test_client()
    post_launch(client, host, sub="w")
    concurrency.wait_idle()
    tokens.ensure(gw, user_id(gw))  # a cached token is waiting in either dialect
    start = threading.Barrier(4)

    def one(_):
        token = mint(host.id, host.secret, sub="w")
        with app.test_client() as own:
            start.wait()
            return own.post("/launch", data={"token": token}).status_code

    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(one, range(4))) == [303] * 4
    with gw.db.begin() as session:
        pages = session.scalars(select(Launch.token_encrypted)).all()
    assert len(pages) == 5 and count(gw, UsedTokenId) == 5
    page_tokens = [gw.box.decrypt(p) for p in pages]
    if tokens.revocation_enabled(gw):
        assert len(set(page_tokens)) == 5  # never two pages with one token


def ready_users(gw, host, users: int) -> None:
    """``users`` ready users, written straight into tables not analysed yet."""
    future = utcnow() + timedelta(days=1)
    with gw.db.begin() as session:
        for i in range(users):
            user = HostUser(
                host_id=host.id, external_id=f"u{i}", cocalc_email=f"gw-{i}@gw.invalid",
                first_name="", last_name="", password_encrypted="-", account_id=f"a{i}",
            )  # fmt: skip
            session.add(user)
            session.flush()
            session.add(UserProject(user_id=user.id, project_id=f"p{i}", collaborator_added=True))
            session.add(CachedToken(user_id=user.id, token_encrypted="-", expires_at=future))


def generic_plan(gw, sql: str, params: dict) -> dict:
    """EXPLAIN ANALYZE under the generic plan a prepared statement gets (rolled back)."""
    connection = gw.db.single_statements.raw_connection()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SET plan_cache_mode = force_generic_plan")
            cursor.execute("BEGIN")  # EXPLAIN ANALYZE runs the inserts: roll them back
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, params)
            plan = cursor.fetchone()[0][0]["Plan"]
            cursor.execute("ROLLBACK")
            cursor.execute("RESET plan_cache_mode")
    finally:
        connection.close()
    return plan


def buffers(node: dict) -> int:
    return node["Shared Hit Blocks"] + node.get("Shared Read Blocks", 0)


def test_the_ready_look_ups_find_the_user_by_index_whatever_the_statistics(app, gw, host):
    """A generic plan made from tables not analysed yet once read every user's project on
    each launch (800 buffers at 200 users): the user's row comes first, by its index. Both
    look-ups: the warm statement's and the general path's."""
    ready_users(gw, host, 200)
    fresh, last = hosts.get(gw, host.id, fresh=True), UserProfile("u199")
    params = warm.parameters(
        host=fresh, profile=last, context="", path="", jti="plan",
        jti_expires_at=utcnow() + timedelta(days=1), digest="d-plan",
        token_margin=tokens.margin(gw), embed_lifetime=None, take_token=False,
    )  # fmt: skip
    for spare in (False, True):  # revocation takes a spare; else the cached token is shared
        statement = warm.statement(spare)
        plan = generic_plan(gw, statement.sql, statement.bind(params))
        (warm_cte,) = [p for p in plan["Plans"] if p.get("Subplan Name") == "CTE warm"]
        assert buffers(warm_cte) < 40
    params = readiness.parameters(fresh, last, "", tokens.margin(gw))
    params["usable_after"] = params["usable_after"].replace(tzinfo=None)
    for spare in (False, True):
        find = CompiledStatement.of(readiness.FIND_READY[spare])
        assert buffers(generic_plan(gw, find.sql, find.bind(params))) < 40


def test_run_reports_driver_errors_as_sqlalchemy_errors(postgres_url):
    empty_postgres(postgres_url)
    db = Database(postgres_url)
    insert_lock = CompiledStatement.of(
        insert(Lock).values(name=bindparam("name"), owner=bindparam("owner"), expires_at=func.now())
    )
    row = {"name": "twice", "owner": "owner-value-not-for-logs"}
    db.run(insert_lock, row)
    with pytest.raises(IntegrityError) as caught:
        db.run(insert_lock, row)
    assert "owner-value-not-for-logs" not in str(caught.value)  # parameters stay hidden
    locks = CompiledStatement.of(select(func.count()).select_from(Lock))
    assert db.run(locks, {}) == (1,)  # the pool still works
    db.dispose()
    unreachable = Database("postgresql://postgres@127.0.0.1:1/nothing")
    with pytest.raises(OperationalError):
        unreachable.run(locks, {})
    unreachable.dispose()


@pytest.mark.parametrize("accept", ["text/html", "application/json"])
def test_a_database_that_cannot_be_reached_gives_503(sim, accept):
    app = create_app(gateway_config(sim, "postgresql://postgres@127.0.0.1:1/nothing"))
    reply = app.test_client().post(
        "/launch", data={"token": mint("host_" + "0" * 16, "s" * 40)}, headers={"Accept": accept}
    )
    assert reply.status_code == 503
    body = reply.get_data(as_text=True)
    assert "database" in body and "Traceback" not in body and "127.0.0.1" not in body
    current.close(app)
