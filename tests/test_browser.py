"""The bridge in a real Chromium: host page, gateway and CoCalc simulator on three origins."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import requests

from gateway.dev.demo import start_stack
from gateway.support import concurrency

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"

# Counts listeners so a test can see that destroy() removed every one it added.
LISTENER_PROBE = """
(() => {
  const live = new Map();
  const add = EventTarget.prototype.addEventListener;
  const remove = EventTarget.prototype.removeEventListener;
  EventTarget.prototype.addEventListener = function (type, fn, options) {
    live.set(fn, (live.get(fn) || 0) + 1);
    return add.call(this, type, fn, options);
  };
  EventTarget.prototype.removeEventListener = function (type, fn, options) {
    if (live.has(fn)) { live.set(fn, live.get(fn) - 1); if (!live.get(fn)) live.delete(fn); }
    return remove.call(this, type, fn, options);
  };
  window.__liveListeners = () => [...live.values()].reduce((a, b) => a + b, 0);
})();
"""


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is needed at {CHROMIUM}: apt-get install chromium (make test does)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture(scope="module", params=["v1", "current"])
def stack(request):
    stack = start_stack(
        request.param,
        settings={
            "GATEWAY_BRIDGE_TIMEOUT_MS": 4000,
            "GATEWAY_OPEN_RETRY_MS": 2500,
            "GATEWAY_OPEN_TIMEOUT_MS": 12000,
        },
    )
    stack["dialect"] = request.param
    yield stack
    concurrency.wait_idle()
    for name in ("host", "gateway", "simulator"):
        stack[name].stop()
    stack["app"].extensions["db"].dispose()


def sim_control(stack, path, **body):
    requests.post(f"{stack['simulator'].url}/_sim/{path}", json=body, timeout=5).raise_for_status()


@pytest.fixture
def page(browser, stack):
    sim_control(stack, "reset")
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.add_init_script(LISTENER_PROBE)
    page = context.new_page()
    page.set_default_timeout(15000)
    page.on("console", lambda m: print("CONSOLE", m.text[:200]))
    yield page
    context.close()


def launch_demo(page, stack, user="alice", path="welcome.md", way="token"):
    page.goto(stack["host"].url)
    page.select_option("#user", user)
    page.select_option("#file", path)
    page.select_option("#way", way)
    page.click("#launch")
    page.wait_for_function("() => window.demoEmbed !== undefined")
    page.evaluate("() => window.demoEmbed.ready()")


def kiosk(page):
    return page.frame_locator("#embed iframe").frame_locator("#cocalc")


def embed_frame(page, stack):
    return next(f for f in page.frames if f.url.startswith(stack["gateway"].url + "/embed/"))


def wait_embed_frame(page, stack, timeout=15):
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [f for f in page.frames if f.url.startswith(stack["gateway"].url + "/embed/")]
        if found:
            return found[0]
        page.wait_for_timeout(50)
    raise AssertionError("no embed page appeared")


@pytest.mark.parametrize("way", ["token", "api"])
def test_three_origins_open_status_closeall(page, stack, way):
    launch_demo(page, stack, way=way)
    # the embed page opened the file through the bridge, and the kiosk page shows it
    kiosk(page).locator("#filename").wait_for()
    assert kiosk(page).locator("#filename").inner_text() == "welcome.md"
    assert "copied from the course template" in kiosk(page).locator("#content").inner_text()
    embed = embed_frame(page, stack)
    embed.wait_for_function("() => document.body.dataset.state === 'open'")
    assert embed.locator("#loading").is_hidden()

    status = page.evaluate("() => window.demoEmbed.status()")
    assert status["connection"]["quality"] == "good"
    assert ["welcome.md"] in status["open_files"].values()

    acked = page.evaluate("""async () => {
        let ack = false;
        const done = await window.demoEmbed.open({path: 'notes/ideas.md'}, {onAck: () => { ack = true; }});
        return {ack, done};
    }""")
    assert acked["ack"] is True and acked["done"]["path"] == "notes/ideas.md"
    assert kiosk(page).locator("#filename").inner_text() == "notes/ideas.md"

    closed = page.evaluate("() => window.demoEmbed.closeAll()")
    assert closed == {"mesg": "all files are closed"}
    after = page.evaluate("() => window.demoEmbed.status()")
    assert not any(after["open_files"].values())


def test_demo_screenshot(page, stack):
    launch_demo(page, stack)
    kiosk(page).locator("#filename").wait_for()
    page.evaluate("() => window.demoEmbed.status()")
    page.click("#status")
    page.wait_for_selector("#log li")
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"demo-{stack['dialect']}.png"
    page.screenshot(path=str(path))
    assert path.stat().st_size > 10_000


def test_host_commands_carry_a_namespace_and_an_id(page, stack):
    launch_demo(page, stack)
    embed = embed_frame(page, stack)
    embed.evaluate("""() => {
        window.__seen = [];
        window.addEventListener('message', (e) => { if (e.source === window.parent) window.__seen.push(e.data); });
    }""")
    page.evaluate("() => window.demoEmbed.status()")
    seen = embed.evaluate("() => window.__seen")
    assert seen and all(m["namespace"] == "cocalc-gateway" and m["id"] for m in seen)


def test_disallowed_host_origin_gets_no_relay(page, stack):
    # The same demo page served from another origin: not one of the host's origins.
    from gateway.dev.devserver import ThreadedServer

    other = ThreadedServer(stack["host"].server.app).start()
    try:
        page.goto(other.url)
        page.select_option("#way", "api")
        page.click("#launch")
        page.wait_for_function("() => window.demoEmbed !== undefined")
        result = page.evaluate("""() => window.demoEmbed.status({timeout: 2000})
            .then(() => 'answered', (e) => e.code)""")
        assert result == "TIMEOUT"
    finally:
        other.stop()


def _open_embed_page(page, stack, user="bob"):
    launch_demo(page, stack, user=user)
    embed = embed_frame(page, stack)
    embed.wait_for_function("() => document.body.dataset.state === 'open'")
    return embed


CONNECT = """async ({timeout}) => {
    const {connect} = await import('/static/cocalc-bridge.js');
    const iframe = document.getElementById('cocalc');
    window.__bridge = connect(iframe, {origin: new URL(iframe.src).origin, timeout});
    await window.__bridge.ready();
    return JSON.parse(document.getElementById('settings').textContent).projectId;
}"""


def test_forged_messages_and_project_log_do_not_resolve_open(page, stack):
    sim_control(stack, "config", open_delay_ms=1500)  # read when the kiosk page renders
    embed = _open_embed_page(page, stack)
    project_id = embed.evaluate(CONNECT, {"timeout": 5000})
    forged = {"status": "done", "action": "open", "project_id": project_id, "path": "analysis.py"}
    result = embed.evaluate(
        """async ({projectId, forged, simUrl}) => {
        const events = [];
        let settled = null;
        window.__bridge.on('project-log', (entry) => events.push('log:' + (entry.event.event || 'time')));
        const opening = window.__bridge.open({project_id: projectId, path: 'analysis.py'},
            {onAck: () => events.push('ack')}).then(() => { settled = 'done'; events.push('done'); });
        // forged replies: one from this window, one from another window on CoCalc's origin
        window.postMessage(forged, '*');
        const forger = document.createElement('iframe');
        forger.src = simUrl + '/_sim/forge?message=' + encodeURIComponent(JSON.stringify(forged));
        document.body.appendChild(forger);
        await new Promise((r) => setTimeout(r, 900));
        const early = settled;
        await opening;
        return {early, events};
    }""",
        {"projectId": project_id, "forged": forged, "simUrl": stack["simulator"].url},
    )
    assert result["early"] is None  # neither forgeries nor the project log resolved it
    events = result["events"]
    assert events[0] == "ack" and events[-1] == "done"
    assert "log:open" in events and events.index("log:open") < events.index("done")


def test_destroy_leaves_no_listener(page, stack):
    embed = _open_embed_page(page, stack)
    before = embed.evaluate("() => window.__liveListeners()")
    embed.evaluate(CONNECT, {"timeout": 5000})
    during = embed.evaluate("() => window.__liveListeners()")
    outcome = embed.evaluate("""async () => {
        const pending = window.__bridge.status().catch((e) => e.code);
        window.__bridge.destroy();
        const after = await window.__bridge.status().catch((e) => e.code);
        return {pending: await pending, after};
    }""")
    assert during > before
    assert embed.evaluate("() => window.__liveListeners()") == before
    assert outcome == {"pending": "DESTROYED", "after": "DESTROYED"}


def test_bridge_validates_arguments(page, stack):
    embed = _open_embed_page(page, stack)
    embed.evaluate(CONNECT, {"timeout": 5000})
    codes = embed.evaluate("""async () => Promise.all([
        window.__bridge.open({project_id: 'nope', path: 'a'}).catch((e) => e.code),
        window.__bridge.open({project_id: '00000000-0000-4000-8000-000000000000', path: 5}).catch((e) => e.code),
    ])""")
    assert codes == ["INVALID_ARGUMENT", "INVALID_ARGUMENT"]


def test_remote_error_for_a_project_the_user_cannot_open(page, stack):
    embed = _open_embed_page(page, stack)
    embed.evaluate(CONNECT, {"timeout": 5000})
    error = embed.evaluate("""() => window.__bridge.open(
        {project_id: '00000000-0000-4000-8000-000000000000', path: 'x.md'})
        .then(() => null, (e) => ({code: e.code, mesg: e.mesg}))""")
    assert error["code"] == "REMOTE_ERROR" and error["mesg"]


def test_silent_cocalc_times_out_and_the_page_says_why(page, stack):
    sim_control(stack, "faults", endpoint="kiosk", mode="silent_kiosk", count=1000)
    page.goto(stack["host"].url)
    page.click("#launch")
    page.wait_for_function("() => window.demoEmbed !== undefined")
    embed = (
        next(f for f in page.frames if "/embed/" in f.url)
        if any("/embed/" in f.url for f in page.frames)
        else None
    )
    page.wait_for_function(
        "() => [...document.querySelectorAll('#log li')].some((li) => li.textContent.includes('ready failed'))",
        timeout=20000,
    )
    embed = embed_frame(page, stack)
    if stack["dialect"] == "v1":
        # API v1 builds open the file from the URL: CoCalc is shown, with an honest notice.
        embed.wait_for_function("() => document.body.dataset.state === 'silent'")
        assert embed.locator("#problem").is_hidden() and embed.locator("#loading").is_hidden()
        assert "does not answer commands" in embed.locator("#notice").inner_text()
        assert kiosk(page).locator("#filename").inner_text() == "welcome.md"
    else:
        embed.wait_for_function("() => document.body.dataset.state === 'problem'")
        text = embed.locator("#problem").inner_text()
        assert "iframe_comm_hosts" in text and "https" in text and "samesite_remember_me" in text
    code = embed.evaluate("""async () => {
        const {connect} = await import('/static/cocalc-bridge.js');
        const iframe = document.getElementById('cocalc');
        const bridge = connect(iframe, {origin: new URL(iframe.src || iframe.dataset.src).origin, timeout: 3000});
        const projectId = JSON.parse(document.getElementById('settings').textContent).projectId;
        const code = await bridge.open({project_id: projectId, path: 'a.md'}, {timeout: 1000}).catch((e) => e.code);
        bridge.destroy();
        return code;
    }""")
    assert code == "TIMEOUT"


def _expire_launches(stack, seconds_from_now):
    from datetime import timedelta

    from sqlalchemy import update

    from gateway.store.models import Launch, utcnow

    with stack["app"].extensions["gateway"].db.begin() as session:
        session.execute(
            update(Launch).values(expires_at=utcnow() + timedelta(seconds=seconds_from_now))
        )


def test_expired_launch_tells_the_host(page, stack):
    launch_demo(page, stack)
    page.evaluate("""() => {
        window.__expired = 0;
        window.demoEmbed.on('expired', () => { window.__expired += 1; });
    }""")
    # 1. the open page notices its launch running out
    _expire_launches(stack, 3)
    embed_frame(page, stack).evaluate("() => window.location.reload()")
    page.wait_for_function("() => window.__expired === 1")
    embed = embed_frame(page, stack)
    assert embed.evaluate("() => document.body.dataset.state") == "expired"
    assert "expired" in embed.locator("#problem").inner_text()
    # 2. a page loaded after expiry is a 410 page that tells the host the same
    embed.evaluate("() => window.location.reload()")
    page.wait_for_function("() => window.__expired === 2")
    assert "has expired" in embed_frame(page, stack).locator("h1").inner_text()


def test_status_time_is_a_date_and_ping_may_be_missing(page, stack):
    embed = _open_embed_page(page, stack)
    embed.evaluate(CONNECT, {"timeout": 5000})
    shapes = embed.evaluate("""async () => {
        const out = [];
        // The first replies of a fresh kiosk page say "connecting", without status_time.
        for (let i = 0; i < 50 && out.length < 2; i++) {
            const s = await window.__bridge.status();
            if (s.connection.status === "connected") {
                out.push({isDate: s.connection.status_time instanceof Date, ping: s.connection.ping});
            } else {
                await new Promise((r) => setTimeout(r, 50));
            }
        }
        return out;
    }""")
    assert len(shapes) == 2 and all(s["isDate"] for s in shapes), shapes
    assert any(s["ping"] is None for s in shapes) or all(isinstance(s["ping"], int) for s in shapes)
    assert json.dumps(shapes)


# -- what a real CoCalc does (../shared/cocalc-api.md section 7) ---------------------------------
RECORD_KIOSK = """() => {
    // Before the embed page's script runs: note when CoCalc's first reply and first load come.
    window.__seen = {replies: [], loads: []};
    window.addEventListener('message', (e) => {
        if (e.data && typeof e.data.status === 'string') window.__seen.replies.push(performance.now());
    }, true);
    const watch = () => {
        const f = document.getElementById('cocalc');
        if (!f) return setTimeout(watch, 0);
        f.addEventListener('load', () => window.__seen.loads.push(performance.now()));
    };
    watch();
}"""


def test_replies_before_load_and_a_first_status_that_says_connecting_reach_the_open_state(
    browser, stack
):
    """The kiosk app answers before its iframe fires load; the page opens the file anyway."""
    sim_control(stack, "reset")
    sim_control(stack, "config", load_delay_ms=900, connect_delay_ms=600)
    context = browser.new_context()
    context.add_init_script(
        "if (location.pathname.startsWith('/embed/')) (" + RECORD_KIOSK + ")();"
    )
    page = context.new_page()
    page.set_default_timeout(15000)
    try:
        launch_demo(page, stack)
        embed = embed_frame(page, stack)
        embed.wait_for_function("() => document.body.dataset.state === 'open'")
        embed.wait_for_function("() => window.__seen.loads.length > 0")
        seen = embed.evaluate("() => window.__seen")
        assert seen["replies"][0] < seen["loads"][0]  # CoCalc answered before its load
        assert embed.evaluate("() => document.body.dataset.state") == "open"  # and stays open
        assert embed.locator("#problem").is_hidden()
        assert kiosk(page).locator("#filename").inner_text() == "welcome.md"
        if stack["dialect"] == "current":  # the app rewrote its address bar, dropping the path
            assert kiosk_url(page).endswith("/files/?fullscreen=kiosk")
    finally:
        context.close()


def kiosk_url(page):
    return next(f for f in page.frames if "/projects/" in f.url).url


def launch_new_user(page, stack, path="welcome.md"):
    """Mount a launch of a user never seen before (a new project) in the demo host page."""
    from tests.launching import mint

    page.goto(stack["host"].url)
    token = mint(stack["host_id"], stack["host_secret"], path=path)
    page.evaluate(
        """async ({url, token}) => {
            const {mount} = await import(url + '/static/cocalc-embed.js');
            window.demoEmbed = mount(document.getElementById('embed'), {url: url + '/launch', token});
        }""",
        {"url": stack["gateway"].url, "token": token},
    )
    page.wait_for_function("() => document.querySelectorAll('#embed iframe').length > 0")


def test_an_interrupted_start_recovers_by_starting_the_project_again(page, stack):
    """CoCalc died while starting the project: the page asks for a start again and opens."""
    # Two: the project's start, and (current API) the start of "My First Project".
    sim_control(stack, "faults", endpoint="start", mode="interrupted_start", count=2)
    launch_new_user(page, stack, path="analysis.py")
    embed = wait_embed_frame(page, stack)
    embed.wait_for_function("() => document.body.dataset.state === 'open'", timeout=20000)
    assert kiosk(page).locator("#filename").inner_text() == "analysis.py"
    calls = requests.get(f"{stack['simulator'].url}/_sim/calls", timeout=5).json()["calls"]
    assert calls.get("projects.start" if stack["dialect"] == "current" else "project_exec")


def test_an_open_that_never_completes_after_cocalc_answered_says_so(page, stack):
    """Not the settings explanation: CoCalc did answer, the file just did not open."""
    sim_control(stack, "faults", endpoint="start", mode="interrupted_start", count=100)
    launch_new_user(page, stack, path="analysis.py")
    embed = wait_embed_frame(page, stack)
    embed.wait_for_function("() => document.body.dataset.state === 'problem'", timeout=20000)
    text = embed.locator("#problem").inner_text()
    assert "did not open the file" in text and "iframe_comm_hosts" not in text


def test_an_expired_page_offers_no_show_cocalc_anyway(page, stack):
    launch_demo(page, stack)
    _expire_launches(stack, 2)
    embed_frame(page, stack).evaluate("() => window.location.reload()")
    embed = embed_frame(page, stack)
    embed.wait_for_function("() => document.body.dataset.state === 'expired'")
    assert (
        embed.locator("#problem-show").is_hidden() and embed.locator("#problem-retry").is_hidden()
    )
    assert embed.locator("#cocalc").count() == 0


CLASSIFY = """async () => {
    const {classifyReply} = await import('/static/cocalc-bridge.js');
    const pid = '00000000-0000-4000-8000-000000000000';
    const open = {action: 'open', project_id: pid, path: 'a.md'};
    const kinds = (command, replies) => replies.map((r) => classifyReply(command, r).kind);
    return {
        open: kinds(open, [
            {status: 'ack', action: 'open', project_id: pid, path: 'a.md'},
            {status: 'done', action: 'open', project_id: pid, path: 'a.md'},
            {status: 'done', action: 'open', project_id: pid, path: 'b.md'},
            {status: 'error', action: 'open', project_id: pid, path: 'a.md', mesg: 'x'},
            {status: 'error', mesg: "invalid project_id='x'"},
            {status: 'done', connection: {}, open_files: {}},
            {status: 'done', mesg: 'all files are closed'},
        ]),
        status: kinds({action: 'status'}, [
            {status: 'done', connection: {status: 'connecting'}, open_files: {}},
            {status: 'done', mesg: 'all files are closed'},
            {status: 'ack', action: 'open', project_id: pid, path: 'a.md'},
            {status: 'error', mesg: 'Unknown action'},
        ]),
        closeall: kinds({action: 'closeall'}, [
            {status: 'done', mesg: 'all files are closed'},
            {status: 'done', connection: {}, open_files: {}},
            {status: 'done', action: 'open', project_id: pid, path: 'a.md'},
        ]),
    };
}"""


def test_reply_correlation_on_its_own(page, stack):
    """classifyReply decides which reply belongs to the command in flight (no ids exist)."""
    page.goto(stack["gateway"].url + "/healthz")
    kinds = page.evaluate(CLASSIFY)
    assert kinds["open"] == ["ack", "done", "ignore", "error", "error", "ignore", "ignore"]
    assert kinds["status"] == ["done", "ignore", "ignore", "error"]
    assert kinds["closeall"] == ["done", "ignore", "ignore"]
