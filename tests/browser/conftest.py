"""Fixtures of the browser tests: Debian's Chromium, and the demo stack on three origins."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from flask import Flask

from gateway import hosts
from gateway.dev.demo import start_stack
from gateway.dev.devserver import ThreadedServer
from gateway.support import concurrency
from gateway.web import current

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


#: For browser tests whose subject is not CoCalc's API (the SDK's handshake, the pages'
#: markup and language, the LMS's flows, the page binding): the current dialect's stack.
ONE_DIALECT = pytest.mark.parametrize("stack", ["current"], indirect=True)

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
# The README's screenshots are rewritten only when asked (`GATEWAY_DOCS_SCREENSHOTS=1 make
# test`), so that a test run leaves the checkout as it found it.
SCREENSHOTS = (
    Path(__file__).resolve().parents[2] / "docs"
    if os.environ.get("GATEWAY_DOCS_SCREENSHOTS")
    else ARTIFACTS
)


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
def playwright():
    """One Playwright for the whole run (the sync API allows one at a time)."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is needed at {CHROMIUM}: apt-get install chromium (make test does)")
    with sync_playwright() as instance:
        yield instance


@pytest.fixture(scope="session")
def browser(playwright):
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
    yield browser
    browser.close()


@pytest.fixture(scope="session", params=["v1", "current"])
def stack(request):
    """The demo stack of one dialect, started once per test process: its simulator is reset
    by each test's ``page``, and a test that changes a setting puts it back."""
    stack = start_stack(
        request.param,
        lms_port=0,
        oidc=True,
        settings={
            "GATEWAY_BRIDGE_TIMEOUT_MS": 4000,
            "GATEWAY_OPEN_RETRY_MS": 2500,
            "GATEWAY_OPEN_TIMEOUT_MS": 12000,
        },
    )
    stack["dialect"] = request.param
    yield stack
    concurrency.wait_idle()
    for name in ("lms", "host", "gateway", "simulator"):
        stack[name].stop()
    stack["oidc"].stop()
    current.close(stack["app"])


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


def _expire_launches(stack, seconds_from_now):
    from datetime import timedelta

    from sqlalchemy import update

    from gateway.store.models import Launch, utcnow

    with stack["app"].extensions["gateway"].db.begin() as session:
        session.execute(
            update(Launch).values(expires_at=utcnow() + timedelta(seconds=seconds_from_now))
        )


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


HOST_PAGE = """<!doctype html><html><body><div id="embed" style="height:600px"></div>
<script type="module">
  const {mount} = await import("GATEWAY/static/cocalc-embed.js");
  window.__events = [];
  window.demoEmbed = mount(document.getElementById("embed"), {url: "GATEWAY/launch", token: "TOKEN"});
  for (const name of ["ready", "error", "expired", "opened-in-new-tab"]) {
    window.demoEmbed.on(name, (data) => window.__events.push(name));
  }
</script></body></html>"""


@pytest.fixture
def other_site(stack):
    """A host on http://localhost:PORT: another site than the gateway and CoCalc."""
    app = Flask("other_site")
    server = ThreadedServer(app).start()
    origin = f"http://localhost:{server.port}"
    with stack["app"].app_context():
        host, secret = hosts.add(stack["app"].extensions["gateway"], "Elsewhere", [origin])

    @app.get("/")
    def page():
        from tests.launching import mint

        token = mint(host.id, secret, path="welcome.md")
        html = HOST_PAGE.replace("GATEWAY", stack["gateway"].url).replace("TOKEN", token)
        return html

    yield origin
    server.stop()


@contextmanager
def page_settings(stack, **values):
    """Settings the pages rendered meanwhile read (timeouts, say), put back afterwards."""
    config = stack["app"].config
    before = {name: config[name] for name in values}
    config.update(values)
    try:
        yield
    finally:
        config.update(before)
