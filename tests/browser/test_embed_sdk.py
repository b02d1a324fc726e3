"""cocalc-embed.js (the host SDK) in a real Chromium: its handshake, its timeouts beside the
embed page's, the gateway's error pages inside the host's frame, and launches without a path."""

from __future__ import annotations

import pytest

from tests.browser.conftest import ONE_DIALECT, sim_control, wait_embed_frame
from tests.launching import mint

pytestmark = [pytest.mark.browser, ONE_DIALECT]

MOUNT = """async ({gateway, url, token, options}) => {
    const {mount} = await import(gateway + '/static/cocalc-embed.js');
    window.demoEmbed = mount(document.getElementById('embed'), {url, token, ...options});
    window.__events = [];
    for (const name of ['ready', 'expired', 'error', 'expiring', 'renewed']) {
        window.demoEmbed.on(name, (data) => window.__events.push([name, data]));
    }
    const started = performance.now();
    return window.demoEmbed.ready().then(
        () => ({ok: true, ms: performance.now() - started}),
        (e) => ({ok: false, code: e.code, reason: e.reason, ms: performance.now() - started}));
}"""


def mount(page, stack, *, token=None, url=None, **options):
    page.goto(stack["host"].url)
    gateway = stack["gateway"].url
    return page.evaluate(
        MOUNT,
        {"gateway": gateway, "url": url or gateway + "/launch", "token": token, "options": options},
    )


def token(stack, **claims):
    return mint(stack["host_id"], stack["host_secret"], **claims)


def test_a_handshake_that_never_completes_has_its_own_error_code(page, stack):
    # A page of the gateway's origin that is not an embed page never answers "hello".
    result = mount(page, stack, url=stack["gateway"].url + "/healthz", handshakeTimeout=1500)
    assert result["ok"] is False and result["code"] == "HANDSHAKE_TIMEOUT"


def test_an_error_page_shows_in_the_hosts_frame_and_the_host_hears_why(page, stack):
    used = token(stack, sub="twice")
    assert mount(page, stack, token=used)["ok"]
    result = mount(page, stack, token=used)  # the same token again: refused
    assert result == {**result, "ok": False, "code": "LAUNCH_FAILED", "reason": "unauthorized"}
    assert result["ms"] < 5000  # told at once, not after a timeout
    frame = next(f for f in page.frames if f.url.startswith(stack["gateway"].url + "/launch"))
    assert "already been used" in frame.locator("#message").inner_text()  # shown, not refused


def test_the_hosts_ready_waits_for_the_pages_verdict(page, stack):
    """A slow cold launch outlasts the SDK's call timeout: ready() still resolves."""
    sim_control(stack, "config", latency_ms=700)
    result = mount(page, stack, token=token(stack, path="welcome.md"), timeout=1000)
    assert result["ok"] is True and result["ms"] > 1000


def test_a_launch_without_a_path_becomes_ready(page, stack):
    """A kiosk URL without a path (the project's page) answers like any other."""
    result = mount(page, stack, token=token(stack, path=None))
    assert result["ok"] is True
    embed = wait_embed_frame(page, stack)
    embed.wait_for_function("() => document.body.dataset.state === 'open'")


def test_messages_go_only_to_the_framing_origin(page, stack):
    """A host with several origins: the embed page and the error page post to the host
    page's own origin only, so its console shows no postMessage error for the others."""
    from gateway import hosts

    app = stack["app"]
    with app.app_context():
        host, secret = hosts.add(
            app.extensions["gateway"],
            "Three sites",
            ["https://other.example.org", stack["host"].url, "https://third.example.net"],
        )
    complaints = []  # (the SDK's and the bridge's probes of frames still loading are others)
    others = ("other.example.org", "third.example.net")
    page.on("console", lambda m: any(o in m.text for o in others) and complaints.append(m.text))
    good = mint(host.id, secret, path="welcome.md")
    assert mount(page, stack, token=good)["ok"]
    embed = wait_embed_frame(page, stack)
    embed.wait_for_function("() => document.body.dataset.state === 'open'")
    assert ["ready", {"projectId": page.evaluate("() => window.__events[0][1].projectId")}] in (
        page.evaluate("() => window.__events")
    )
    used = mount(page, stack, token=good)  # the same token again: an error page
    assert not used["ok"] and used["reason"] == "unauthorized"
    # A round trip through the error page's own frame after its script ran: the console
    # messages it could have made came before this answer.
    gateway = stack["gateway"].url
    (error_page,) = [f for f in page.frames if f.url == gateway + "/launch"]
    error_page.wait_for_load_state("load")
    assert error_page.evaluate("() => document.readyState") == "complete"
    assert complaints == []
