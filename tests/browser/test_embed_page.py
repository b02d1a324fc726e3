"""The embed page in a real Chromium: opening files, what it says when CoCalc does not."""

from __future__ import annotations

import json

import pytest
import requests

from tests.browser.conftest import (
    ARTIFACTS,
    _expire_launches,
    embed_frame,
    kiosk,
    kiosk_url,
    launch_demo,
    launch_new_user,
    page_settings,
    sim_control,
    wait_embed_frame,
)

pytestmark = pytest.mark.browser


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


def test_the_sign_in_is_one_request_and_cocalc_loads_only_the_kiosk(page, stack):
    """The current API signs in with a request for /auth/impersonate from the embed page:
    no document is made for it, so its script never goes on to CoCalc's app; the only
    CoCalc page is the kiosk. API v1 signs in on the kiosk URL itself."""
    cocalc = stack["simulator"].url
    seen = []
    page.on(
        "request",
        lambda r: seen.append((r.resource_type, r.url)) if r.url.startswith(cocalc) else None,
    )
    launch_demo(page, stack)
    embed_frame(page, stack).wait_for_function("() => document.body.dataset.state === 'open'")
    sign_ins = [kind for kind, url in seen if "/auth/impersonate" in url]
    documents = [url for kind, url in seen if kind == "document"]
    assert not [url for url in documents if url.startswith(f"{cocalc}/app")]
    assert all("/projects/" in url or "/static/app.html" in url for url in documents)
    if stack["dialect"] == "current":
        assert sign_ins == ["fetch"]
        assert not any("auth_token" in url for url in documents)
    else:
        assert sign_ins == [] and "auth_token=" in documents[0]
    cocalc_frames = [f for f in page.frames if f.url.startswith(cocalc)]
    assert len(cocalc_frames) == 1  # the kiosk


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


def test_expired_launch_tells_the_host(page, stack):
    launch_demo(page, stack)
    page.evaluate("""() => {
        window.__expired = 0;
        window.__notices = 0;  // every "expired" the frames post, before the SDK's own dedup
        window.demoEmbed.on('expired', () => { window.__expired += 1; });
        window.addEventListener('message', (e) => {
            if (e.data && e.data.event === 'expired') window.__notices += 1;
        });
    }""")
    # 1. the open page notices its launch running out
    _expire_launches(stack, 3)
    embed_frame(page, stack).evaluate("() => window.location.reload()")
    page.wait_for_function("() => window.__expired === 1")
    embed = embed_frame(page, stack)
    assert embed.evaluate("() => document.body.dataset.state") == "expired"
    assert "expired" in embed.locator("#problem").inner_text()
    # 2. a page loaded after expiry is a 410 page that tells the host the same; the host
    # page hears "expired" once, however many times the gateway says it
    embed.evaluate("() => window.location.reload()")
    page.wait_for_function(
        "(u) => [...document.querySelectorAll('#embed iframe')].length > 0", arg=None
    )
    embed_frame(page, stack).wait_for_selector("h1:has-text('has expired')")
    page.wait_for_function("() => window.__notices >= 2")  # the 410 page's notice arrived
    assert page.evaluate("() => window.__expired") == 1


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
    with page_settings(stack, GATEWAY_OPEN_TIMEOUT_MS=4000, GATEWAY_OPEN_RETRY_MS=1500):
        launch_new_user(page, stack, path="analysis.py")
        embed = wait_embed_frame(page, stack)
        embed.wait_for_function("() => document.body.dataset.state !== 'loading'")
    embed.wait_for_function("() => document.body.dataset.state === 'problem'", timeout=20000)
    assert json.loads(embed.locator("#settings").text_content())["openTimeoutMs"] == 4000
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


def test_a_returning_users_page_takes_every_script_from_the_cache(page, stack):
    """The import map sends the modules the page imports to their hashed URLs: on the second
    launch no script or style is asked for again (not even a 304), and the file opens."""
    launch_demo(page, stack)
    launch_demo(page, stack)
    kiosk(page).locator("#filename").wait_for()
    entries = embed_frame(page, stack).evaluate(
        "() => performance.getEntriesByType('resource').filter(e => e.name.includes('/static/'))"
        ".map(e => [new URL(e.name).pathname + new URL(e.name).search, e.transferSize])"
    )
    names = {name.split("?")[0] for name, _ in entries}
    assert {"/static/embed-page.js", "/static/cocalc-bridge.js", "/static/messaging.js"} <= names
    assert all("?v=" in name and size == 0 for name, size in entries), entries


def test_done_comes_while_cocalc_still_paints_loading(page, stack):
    """As on the real server: the page is "open" at CoCalc's done, and the editor with the
    file's text appears a while later (the simulator's editor_delay_ms)."""
    if stack["dialect"] == "v1":
        pytest.skip("the v1-era app paints the kiosk URL's file by itself (section 7)")
    sim_control(stack, "config", editor_delay_ms=1500)
    launch_demo(page, stack)
    embed = embed_frame(page, stack)
    embed.wait_for_function("() => document.body.dataset.state === 'open'")
    frame = kiosk(page)
    assert frame.locator("#loading").is_visible() and frame.locator("#editor").is_hidden()
    frame.locator("#editor").wait_for(state="visible", timeout=5000)
    assert frame.locator("#filename").inner_text() == "welcome.md"
    assert frame.locator("#loading").is_hidden()


def test_the_v1_era_kiosk_signs_in_reloads_and_still_answers(page, stack):
    """The v1-era app signs in with the URL's token over its websocket, then reloads itself
    (``client/hub.ts``): the bridge takes the reload in its stride and the file opens."""
    if stack["dialect"] != "v1":
        pytest.skip("the current API signs in through /auth/impersonate, before the kiosk")
    loads = []
    page.on(
        "framenavigated",
        lambda frame: "/static/app.html" in frame.url and loads.append(frame.url),
    )
    launch_demo(page, stack)
    embed = embed_frame(page, stack)
    embed.wait_for_function("() => document.body.dataset.state === 'open'")
    assert len(loads) >= 2 and "auth_token" in loads[0] and "auth_token" not in loads[-1]
    assert kiosk(page).locator("#filename").inner_text() == "welcome.md"
