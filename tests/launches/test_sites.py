"""Sites as browsers decide them: the Public Suffix List's algorithm with its default rule,
and what it means for a framed sign-in, said by the embed page, doctor and hosts add."""

from __future__ import annotations

import json

import pytest

from gateway.launches import sites
from tests.conftest import app_lifetime, make_app


@pytest.mark.parametrize(
    ("origin", "site"),
    [
        # Names under a top-level domain the list does not know: the default rule "*".
        ("https://lms.example.test", "https://example.test"),
        ("https://gw.example.test", "https://example.test"),
        ("https://cocalc.example.test:8443", "https://example.test"),
        ("https://a.b.corp.internal", "https://corp.internal"),
        ("https://gw.lan", "https://gw.lan"),
        ("https://moodle.school.local", "https://school.local"),
        ("https://x.y.home.arpa", "https://y.home.arpa"),  # home.arpa is listed
        # Listed suffixes, private ones included (as browsers use them).
        ("https://www.example.co.uk", "https://example.co.uk"),
        ("https://alice.github.io", "https://alice.github.io"),
        ("https://bob.github.io", "https://bob.github.io"),
        ("https://a.city.kawasaki.jp", "https://city.kawasaki.jp"),  # an exception rule
        ("https://x.foo.ck", "https://x.foo.ck"),  # a wildcard rule
        # Addresses and single labels are sites of their own; the scheme counts.
        ("http://localhost:5000", "http://localhost"),
        ("https://127.0.0.1:8000", "https://127.0.0.1"),
        ("https://[::1]:5000", "https://::1"),
        ("http://lms.example.test", "http://example.test"),
        ("https://LMS.Example.TEST.", "https://example.test"),
    ],
)
def test_the_site_of_an_origin(origin, site):
    assert sites.site(origin) == site


def test_an_intranet_layout_is_one_site_and_signs_in_framed():
    for dialect in ("current", "v1"):
        verdict = sites.framed_sign_in(
            "https://lms.example.test", "https://cocalc.example.test", dialect
        )
        assert verdict == sites.WORKS


def test_another_site_cannot_on_the_current_api_and_might_on_v1():
    """The current front end needs its account_id cookie (Lax: never kept in a frame under
    another site), whatever samesite_remember_me says; the v1-era build had none, and its
    remember_me was always SameSite=None."""
    far = ("https://alice.github.io", "https://bob.github.io")
    assert sites.framed_sign_in(*far, "current") == sites.CANNOT
    assert sites.framed_sign_in(*far, "auto") == sites.CANNOT  # not known yet: the current
    assert sites.framed_sign_in(*far, "v1") == sites.MIGHT
    advice = sites.advice(sites.CANNOT, "https://cocalc.example.test")
    assert "samesite_remember_me" not in advice and "example.test" in advice


def test_hosts_add_says_for_each_origin_whether_a_framed_sign_in_works(sim, sqlite_url):
    app = make_app(
        sim,
        sqlite_url,
        COCALC_URL="https://cocalc.example.test",
        GATEWAY_PUBLIC_URL="https://gw.example.test",
    )
    for ready in app_lifetime(app):
        result = ready.test_cli_runner().invoke(
            args=[
                "hosts",
                "add",
                "Intranet",
                "--origin",
                "https://lms.example.test",
                "--origin",
                "https://elsewhere.example.org",
            ]
        )
        assert result.exit_code == 0, result.output
        framed = {r["origin"]: r for r in json.loads(result.output)["framed_sign_in"]}
        assert framed["https://lms.example.test"]["sign_in"] == "works"
        assert framed["https://elsewhere.example.org"]["sign_in"] == "cannot"
        advice = framed["https://elsewhere.example.org"]["advice"]
        assert "new tab" in advice and "example.test" in advice
        assert "samesite_remember_me" not in advice  # no advice CoCalc cannot use


def test_the_embed_page_and_doctor_agree(sim, sqlite_url):
    """One decision: the page's verdicts are what doctor reports."""
    from gateway import hosts
    from gateway.operator import cocalc_checks

    app = make_app(sim, sqlite_url)
    for ready in app_lifetime(app):
        gw = ready.extensions["gateway"]
        with ready.app_context():
            finding = cocalc_checks.framed_sign_in(gw, {})
            assert finding.status == "warn" and "no host yet" in finding.detail
            hosts.add(gw, "Course", ["https://lms.example.edu"])
            finding = cocalc_checks.framed_sign_in(gw, {})
        assert finding.status == "warn" and "new tab" in finding.detail
        expected = "cannot" if sim.dialect == "current" else "might"
        assert finding.facts["verdicts"]["framed"] == {"https://lms.example.edu": expected}
