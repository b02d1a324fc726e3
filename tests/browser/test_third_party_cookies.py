"""A host page on another site than CoCalc, in a Chromium that blocks third-party cookies
(as Chromium 156 does, and the flag makes sure): the new-tab offer, the new tab signed in,
no redirect loops; and an embed that renews itself across its expiry."""

from __future__ import annotations

import pytest

from tests.browser.conftest import ARGS, CHROMIUM, _expire_launches, kiosk, launch_demo, sim_control

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def blocking_browser(playwright):
    args = [*ARGS, "--test-third-party-cookie-phaseout"]
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=args, headless=True)
    yield browser
    browser.close()


@pytest.fixture(params=["strict", "none"])
def cookie_policy(request, stack):
    """CoCalc's samesite_remember_me: on the current API neither makes a frame under
    another site sign in (its account_id cookie is Lax), so the page offers the new tab."""
    sim_control(stack, "reset")
    sim_control(stack, "config", samesite_remember_me=request.param)
    yield request.param
    sim_control(stack, "reset")


def test_the_new_tab_offer_and_a_signed_in_new_tab(
    blocking_browser, stack, other_site, cookie_policy
):
    context = blocking_browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15000)
    try:
        page.goto(other_site + "/")
        page.wait_for_function("() => document.querySelector('#embed iframe')")
        embed = wait_for_embed(page, stack)
        began = page.evaluate("() => performance.now()")
        embed.wait_for_function("() => document.body.dataset.state === 'offer'", timeout=8000)
        waited = page.evaluate("() => performance.now()") - began
        assert waited < 5000, f"the offer took {waited:.0f} ms"
        # The framed page is bound by a partitioned cookie, kept although the browser blocks
        # third-party cookies: its new-tab ticket came from a bound request.
        bound = [c for c in context.cookies() if c["name"].startswith("__Host-gw_page_")]
        assert bound and all(c.get("partitionKey") for c in bound)
        embed.wait_for_function("() => document.querySelector('#offer-form input').value")
        with context.expect_page() as opened:
            embed.click("#offer-open")
        tab = opened.value
        navigations = []
        tab.on("framenavigated", lambda f: f == tab.main_frame and navigations.append(f.url))
        tab.wait_for_function("() => document.body.dataset.state === 'open'", timeout=15000)
        assert tab.frame_locator("#cocalc").locator("#filename").inner_text() == "welcome.md"
        assert len(navigations) < 5
        embed.wait_for_function("() => document.body.dataset.state === 'moved'")
        assert "new tab" in embed.locator("#moved").inner_text()
        page.wait_for_function("() => window.__events.includes('opened-in-new-tab')")
    finally:
        context.close()


def wait_for_embed(page, stack):
    for _ in range(100):
        frames = [f for f in page.frames if f.url.startswith(stack["gateway"].url + "/embed/")]
        if frames:
            return frames[0]
        page.wait_for_timeout(100)
    raise AssertionError("no embed page")


@pytest.fixture
def blocking_page(blocking_browser):
    context = blocking_browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


def test_fetch_launch_url_renews_an_embed_across_its_expiry(blocking_page, stack):
    """Renewed before it expires, the file still open, and no "expired" on the host page."""
    page = blocking_page
    page.clock.install()  # the clock runs as ever; the test jumps it past the old page's end
    sim_control(stack, "reset")
    launch_demo(page, stack)
    page.evaluate("""() => {
        window.demoEmbed.destroy();
        const box = document.getElementById('embed');
        box.replaceChildren();
        window.__events = [];
        window.__renewals = 0;
        const fetchLaunchUrl = async () => {
            window.__renewals += 1;
            const reply = await fetch('/demo/launch', {method: 'POST',
                headers: {'Content-Type': 'application/json'},
                body: JSON.stringify({user: 'alice', path: 'welcome.md', way: 'token'})});
            return reply.json();
        };
        return fetchLaunchUrl().then(async (launch) => {
            const {mount} = await import(JSON.parse(document.getElementById('demo-settings').textContent).gatewayUrl + '/static/cocalc-embed.js');
            window.demoEmbed = mount(box, {...launch, fetchLaunchUrl});
            for (const name of ['expiring', 'renewed', 'expired', 'error']) {
                window.demoEmbed.on(name, () => window.__events.push(name));
            }
            window.__renewals = 0;
            await window.demoEmbed.ready();
        });
    }""")
    kiosk(page).locator("#filename").wait_for()
    _expire_launches(stack, 8)  # the page learns its new end on its next load
    page.frame_locator("#embed iframe").locator("body").evaluate("() => window.location.reload()")
    page.wait_for_function("() => window.__events.includes('renewed')", timeout=20000)
    assert page.evaluate("() => window.__events") == ["expiring", "renewed"]
    assert page.evaluate("() => window.__renewals") == 1
    page.clock.fast_forward(10_000)  # past the old page's end: every timer due has fired
    assert "expired" not in page.evaluate("() => window.__events")
    assert kiosk(page).locator("#filename").inner_text() == "welcome.md"
