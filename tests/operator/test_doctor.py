"""``cocalc-gateway doctor`` against the simulator: each failing case, --fix, --json."""

from __future__ import annotations

import json

from gateway import hosts
from gateway.store.models import Host
from tests.conftest import app_lifetime, make_app
from tests.launching import rows


def doctor(app, *args):
    result = app.test_cli_runner().invoke(args=["doctor", *args])
    return result


def findings(app, *args) -> dict:
    result = doctor(app, "--json", *args)
    assert result.output.startswith("{"), result.output
    report = json.loads(result.output)
    return {f["name"]: f for f in report["findings"]}, report, result.exit_code


def test_a_fresh_cocalc_needs_iframe_comm_hosts_and_dns(app, sim):
    found, report, code = findings(app)
    assert code == 1 and report["ok"] is False
    assert found["iframe_comm_hosts"]["status"] == "fail"
    assert found["iframe_comm_hosts"]["fix"] == {
        "setting": "iframe_comm_hosts",
        "value": "127.0.0.1",
    }
    assert found["dns"]["status"] == "fail" and found["dns"]["restart"] is True
    assert found["dialect"]["status"] == "ok" and sim.dialect in found["dialect"]["detail"]
    assert found["api_key"]["status"] == "ok"
    assert found["database"]["status"] == "ok"
    assert found["synthetic_launch"]["status"] == "ok"
    assert found["cocalc_https"]["status"] == "warn"  # plain http on 127.0.0.1
    assert found["gateway_https"]["status"] == "warn"
    assert rows(app.extensions["gateway"], Host) == 0  # the throw-away host is gone
    assert sim.admin_key not in json.dumps(report)


def test_fix_sets_what_the_key_may_and_says_what_needs_a_restart(app, sim):
    result = doctor(app, "--fix", "--yes")
    assert "iframe_comm_hosts: set to '127.0.0.1'" in result.output
    assert "Restart CoCalc's hub" in result.output
    assert result.exit_code == 0, result.output
    found, _, code = findings(app)
    assert code == 0 and found["iframe_comm_hosts"]["status"] == "ok"
    assert found["dns"]["status"] == "ok"


def test_fix_asks_first(app, sim):
    result = app.test_cli_runner().invoke(args=["doctor", "--fix", "--no-launch"], input="n\nn\n")
    assert "Set CoCalc's iframe_comm_hosts" in result.output
    assert result.exit_code == 1
    found, _, _ = findings(app, "--no-launch")
    assert found["iframe_comm_hosts"]["status"] == "fail"  # nothing was changed


def test_a_dns_that_names_another_site_is_not_fixed_blindly(app, sim):
    sim.configure()  # (knobs back to the start)
    app.extensions["gateway"].cocalc.set_site_setting("dns", "https://cocalc.elsewhere.example")
    found, _, _ = findings(app, "--no-launch")
    assert found["dns"]["status"] == "fail" and found["dns"]["fix"] is None
    assert "cocalc.elsewhere.example" in found["dns"]["detail"]


def test_a_non_admin_key(sim, sqlite_url):
    for app in app_lifetime(make_app(sim, sqlite_url, COCALC_API_KEY=sim.user_key)):
        found, _, code = findings(app, "--no-launch")
        assert code == 1
        assert found["api_key"]["status"] == "fail"
        assert found["site_settings"]["status"] == "fail"
        assert found["iframe_comm_hosts"]["status"] == "skip"


def test_cocalc_down(sim, sqlite_url):
    for app in app_lifetime(
        make_app(
            sim, sqlite_url, COCALC_URL="http://127.0.0.1:9", COCALC_TIMEOUT=0.5, COCALC_RETRIES=0
        )
    ):
        found, _, code = findings(app, "--no-launch")
        assert code == 1
        assert found["cocalc_https"]["status"] == "fail"
        assert "cannot be reached" in found["cocalc_https"]["detail"]
        assert found["dialect"]["status"] == "fail"


def test_hosts_on_another_site_need_samesite_none(app, gw, sim):
    hosts.add(gw, "Far away LMS", ["https://lms.example.edu"])
    found, _, _ = findings(app, "--no-launch")
    samesite = found["samesite_remember_me"]
    assert samesite["status"] == "fail" and "https://lms.example.edu" in samesite["detail"]
    gw.cocalc.set_site_setting("samesite_remember_me", "none")
    found, _, _ = findings(app, "--no-launch")
    assert found["samesite_remember_me"]["status"] == "warn"  # the gateway still says strict
    assert "COCALC_SAMESITE_REMEMBER_ME=none" in found["samesite_remember_me"]["action"]


def test_a_database_not_migrated(sim, blank_sqlite_url):
    from gateway import cli
    from tests.conftest import create_app, gateway_config

    app = create_app(gateway_config(sim, blank_sqlite_url))
    cli.attach(app)
    for ready in app_lifetime(app):
        found, _, code = findings(ready, "--no-launch")
        assert code == 1 and found["database"]["status"] == "fail"
        assert "db upgrade" in found["database"]["action"]


def test_text_output_names_each_check(app, sim):
    result = doctor(app, "--no-launch")
    assert result.exit_code == 1
    for line in ("[FAIL] iframe_comm_hosts", "[FAIL] dns", "[ok  ] database", "do: "):
        assert line in result.output


def test_a_transport_error_that_is_no_cocalc_error_fails_its_check_alone(app, gw, monkeypatch):
    import requests

    def broken(*args, **kwargs):
        raise requests.exceptions.ChunkedEncodingError("the connection broke mid-answer")

    monkeypatch.setattr(type(gw.cocalc), "site_settings", broken)
    found, _, code = findings(app, "--no-launch")
    assert code == 1
    assert found["site_settings"]["status"] == "fail"
    assert "ChunkedEncodingError" in found["site_settings"]["detail"]
    assert found["database"]["status"] == "ok"  # the other checks still ran


def test_a_hub_slow_to_answer_its_first_request_is_asked_once_more(app, gw, monkeypatch):
    """Right after a restart a hub may miss a 10 s read timeout, then answer the next."""
    import threading

    from flask import Flask

    from gateway.dev.devserver import ThreadedServer
    from gateway.operator import cocalc_checks

    slow = Flask("warming-hub")
    first = threading.Event()

    @slow.get("/")
    def home():
        if not first.is_set():
            first.set()
            import time

            time.sleep(1.0)
        return "ok"

    server = ThreadedServer(slow).start()
    try:
        monkeypatch.setattr(cocalc_checks, "PROBE_TIMEOUT_S", 0.3)
        monkeypatch.setattr(cocalc_checks, "PATIENT_TIMEOUT_S", 5)
        monkeypatch.setitem(gw.settings, "COCALC_URL", server.url)
        finding = cocalc_checks.reachable(gw)
    finally:
        server.stop()
    assert finding.status != "fail", finding.detail
