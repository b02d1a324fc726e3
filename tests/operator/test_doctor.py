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


def test_hosts_on_another_site_get_the_new_tab_and_no_advice_to_weaken_cocalc(app, gw, sim):
    hosts.add(gw, "Far away LMS", ["https://lms.example.edu"])
    found, _, _ = findings(app, "--no-launch")
    framed = found["framed_sign_in"]
    assert framed["status"] == "warn" and "https://lms.example.edu" in framed["detail"]
    assert "samesite_remember_me" not in framed["action"]
    if sim.dialect == "current":
        assert "new tab" in framed["detail"]
        gw.cocalc.set_site_setting("samesite_remember_me", "none")
        found, _, _ = findings(app, "--no-launch")
        weakened = found["framed_sign_in"]  # the old advice, undone: set it back
        assert weakened["status"] == "warn" and "back to strict" in weakened["action"]
    else:
        assert "browser decides" in framed["detail"]


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


def test_a_server_that_speaks_neither_api_names_each_probe_and_blames_no_key(
    simulators, sqlite_url
):
    """The finding: an undetected v1-era server was reported as "the API key is not a site
    admin's" although no admin-only call was made. Now the dialect finding names what each
    generation's probe found, and the key is not judged."""
    from flask import Flask

    from gateway.dev.devserver import ThreadedServer

    not_cocalc = Flask("not_cocalc")

    @not_cocalc.post("/api/conat/hub")
    def broken_front_end():
        return "<!DOCTYPE html><h1>500</h1>", 500

    server = ThreadedServer(not_cocalc).start()
    try:
        app = make_app(
            simulators["current"],
            sqlite_url,
            COCALC_URL=server.url,
            COCALC_API_DIALECT="auto",
            COCALC_RETRIES=0,
        )
        for ready in app_lifetime(app):
            found, _, code = findings(ready, "--no-launch")
            assert code == 1
            dialect = found["dialect"]
            assert dialect["status"] == "fail"
            assert "current: CoCalc answered HTTP 500" in dialect["detail"]
            assert "v1: not served there" in dialect["detail"]
            assert (
                found["api_key"]["status"] == "skip" and "admin" not in found["api_key"]["detail"]
            )
    finally:
        server.stop()


def test_a_v1_era_server_is_found_although_its_hub_path_answers_500(sqlite_url):
    """The v1-era build answers the current API's path with a 500 page; detection goes on
    to API v1 (``tests/cocalc`` has the probe itself)."""
    from tests.conftest import start_simulator

    server, v1 = start_simulator("v1")
    try:
        app = make_app(v1, sqlite_url, COCALC_API_DIALECT="auto")
        for ready in app_lifetime(app):
            found, _, _ = findings(ready, "--no-launch")
            assert found["dialect"]["status"] == "ok" and "v1" in found["dialect"]["detail"]
            assert found["api_key"]["status"] == "ok"
    finally:
        server.stop()
