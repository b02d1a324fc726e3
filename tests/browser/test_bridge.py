"""cocalc-bridge.js and the relay in a real Chromium, across three origins."""

from __future__ import annotations

import json

import pytest

from tests.browser.conftest import (
    CONNECT,
    _open_embed_page,
    embed_frame,
    launch_demo,
    sim_control,
)

pytestmark = pytest.mark.browser


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


def test_the_demo_launch_waits_for_its_sdk(page, stack):
    """A click before the host page's SDK is loaded must not submit the form natively (a
    reload that launches nothing, seen in CI on a busy machine): the button is enabled
    only once the script has the SDK and its handler is attached."""
    held = []
    page.route("**/static/cocalc-embed.js*", lambda route: held.append(route))
    page.goto(stack["host"].url, wait_until="domcontentloaded")
    for _ in range(100):
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "the host page never asked for the SDK"
    assert page.is_disabled("#launch")
    held[0].continue_()
    page.click("#launch")  # waits until the button is enabled
    page.wait_for_function("() => window.demoEmbed !== undefined")
    assert page.url.rstrip("/") == stack["host"].url.rstrip("/")  # no native submit


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


def test_clean_path_agrees_with_the_servers_rule(page, stack):
    """cleanPath (the relay's rule) and clean_path (launches) on the same cases."""
    import json
    from pathlib import Path

    cases = json.loads((Path(__file__).parents[1] / "data" / "paths.json").read_text())["cases"]
    page.goto(stack["gateway"].url + "/healthz")
    got = page.evaluate(
        """async (cases) => {
            const {cleanPath} = await import('/static/messaging.js');
            return cases.map(([given]) => { try { return cleanPath(given); } catch (e) { return e.code; } });
        }""",
        cases,
    )
    wanted = [w if w is not None else "INVALID_ARGUMENT" for _, w in cases]
    assert got == wanted


def test_the_relay_refuses_paths_outside_the_project(page, stack):
    launch_demo(page, stack)
    codes = page.evaluate("""async () => Promise.all(
        ['../../etc/passwd', '/etc/passwd', '~/.ssh/id_rsa', 'a\\u0000b'].map((path) =>
            window.demoEmbed.open({path}).then(() => 'opened', (e) => e.code)))""")
    assert codes == ["INVALID_ARGUMENT"] * 4
