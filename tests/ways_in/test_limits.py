"""Limits on sign-ins, on SQLite and PostgreSQL: a client's own budget, a clear 429, nothing
written for a login at all, and a host budget that only verified sign-ins spend."""

from __future__ import annotations

import pytest

from gateway import hosts
from gateway.store import rate_limits
from gateway.store.models import Exchange, UsedTokenId, utcnow
from gateway.ways_in import limits
from gateway.ways_in.lti import platforms
from tests.conftest import app_lifetime, make_app
from tests.launching import rows

LMS = "https://lms.example.edu"


@pytest.fixture
def limited(sim, database_url, monkeypatch):
    # The windows are fixed minutes: the limiter's clock stands still in the middle of one,
    # so a test's requests never straddle a window's edge (once in CI the fourth request of
    # a test fell into the next minute, and was counted afresh).
    moment = utcnow().replace(second=30, microsecond=0)
    monkeypatch.setattr(rate_limits, "utcnow", lambda: moment)
    app = make_app(sim, database_url, GATEWAY_LOGIN_RATE_LIMIT=3, GATEWAY_LOGINS_PER_HOST=5)
    gw = app.extensions["gateway"]
    host, _ = hosts.add(gw, "Course", [LMS])
    platforms.add(
        gw,
        host.id,
        issuer=LMS,
        client_id="tool",
        deployment_ids=["1"],
        login_url=LMS + "/auth",
        token_url=LMS + "/token",
        jwks_url=LMS + "/jwks",
    )
    app.host_id = host.id
    yield from app_lifetime(app)


def login(app, address: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    query = {"iss": LMS, "login_hint": "u", "target_link_uri": "http://127.0.0.1/lti/launch"}
    return client.get("/lti/login", query_string=query)


def test_a_client_may_start_only_so_many_sign_ins(limited):
    for _ in range(3):
        assert login(limited, "203.0.113.7").status_code == 302
    refused = login(limited, "203.0.113.7")
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "60"
    assert "too many sign-ins" in refused.get_data(as_text=True)
    assert login(limited, "203.0.113.8").status_code == 302  # another client is not held up


def test_a_login_writes_no_row_for_anyone_to_fill_the_database_with(limited):
    gw = limited.extensions["gateway"]
    for n in range(20):
        login(limited, f"198.51.100.{n}")
    assert rows(gw, Exchange) == 0 and rows(gw, UsedTokenId) == 0


def test_one_ipv6_client_is_its_slash_64(limited):
    for n in range(3):
        assert login(limited, f"2001:db8:1:2::{n + 1}").status_code == 302
    assert login(limited, "2001:db8:1:2:ffff::9").status_code == 429
    assert login(limited, "2001:db8:1:3::1").status_code == 302


def test_logins_from_any_number_of_clients_spend_nothing_of_the_hosts(limited):
    """The finding: seven addresses kept every sign-in of a host at 429. Logins that no
    platform verified no longer count against the host at all."""
    for n in range(50):
        assert login(limited, f"198.51.100.{n}").status_code == 302
    gw = limited.extensions["gateway"]
    for _ in range(5):
        limits.sign_in_verified(gw, limited.host_id)  # five learners' verified launches


def test_a_host_may_have_only_so_many_verified_sign_ins(limited):
    gw = limited.extensions["gateway"]
    for _ in range(5):
        limits.sign_in_verified(gw, limited.host_id)
    with pytest.raises(limits.TooManyRequests) as refused:
        limits.sign_in_verified(gw, limited.host_id)
    assert refused.value.retry_after == 600
    other, _ = hosts.add(gw, "Other", ["https://other.example.edu"])
    limits.sign_in_verified(gw, other.id)  # another host is not held up


def test_a_new_window_starts_a_new_count(limited):
    from datetime import timedelta

    from gateway.store.models import RateCount

    gw = limited.extensions["gateway"]
    for _ in range(4):
        login(limited, "203.0.113.50")
    assert login(limited, "203.0.113.50").status_code == 429
    with gw.db.begin() as session:  # the minute has passed
        earlier = utcnow() - timedelta(minutes=2)
        session.execute(RateCount.__table__.update().values(window_start=earlier))
    assert login(limited, "203.0.113.50").status_code == 302


def test_the_buckets_of_unparsable_addresses_are_one():
    assert rate_limits.client_bucket("x", None) == rate_limits.client_bucket("x", "nonsense")
