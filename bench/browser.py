"""Time to notebook: from the click in the host page to the file open in CoCalc (the
bridge's ``done``), in Chromium, for a cold launch (a new user), a warm one, and "CoCalc
alone" (a signed-in browser loading the kiosk URL itself and sending ``open``), on both
dialects, against the simulator with a latency per CoCalc call and per page load, or with a
real CoCalc's delays (``--real-like``). Against a real CoCalc, "CoCalc alone" needs the bench
host page's own name in CoCalc's ``iframe_comm_hosts`` (it frames the kiosk itself, and
CoCalc answers no other sender): the benchmark says so when CoCalc does not answer.

A second figure for each: the time until the kiosk frame shows the file's editor. The real
CoCalc answers ``done`` while it still paints "Loading…" and shows the editor about 2 s
later (section 7b); the simulator waits ``--editor-delay-ms`` likewise. The end point of
the goals stays ``done``: what comes after it is CoCalc's own time, the same alone.

Run with ``make bench-browser`` (``make bench`` runs it after the server-side benchmark).
The gateway runs under the Procfile's own serving command. Writes
``artifacts/bench-browser.json`` and a chart, ``docs/bench-time-to-notebook.png``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import uuid
from pathlib import Path

from flask import Flask, jsonify, request
from playwright.sync_api import Error as PlaywrightError

from bench.run import ROOT, Stack, percentile
from gateway.dev.devserver import ThreadedServer
from gateway.dev.simulator.plumbing import REAL_LIKE
from tests.browser.conftest import ARGS, CHROMIUM  # the suite's Chromium, launched alike
from tests.launching import mint

PATH = "notes.md"
SETTLE_MS = 500

HOST_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>bench host</title>
<style>html,body,#box{margin:0;height:100%}</style></head><body><div id="box"></div>
<script type="module">
const { mount } = await import("GATEWAY/static/cocalc-embed.js");
const { connect } = await import("GATEWAY/static/cocalc-bridge.js");
window.clickAt = null;
// The host's server has signed the launch token into its page before the user clicks (as
// the README's example renders it): the click only mounts the launch.
window.prepare = async (user) => {
  const reply = await fetch(`/mint?user=${encodeURIComponent(user)}`);
  window.prepared = await reply.json();
};
window.launch = () => {
  window.clickAt = performance.timeOrigin + performance.now();
  const { url, token } = window.prepared;
  window.embed = mount(document.getElementById("box"), { url, token });
};
window.alone = async (kioskUrl, cocalcOrigin, projectId, path) => {
  const frame = document.createElement("iframe");
  frame.style.cssText = "width:100%;height:100%;border:0";
  document.getElementById("box").replaceChildren(frame);
  const started = performance.timeOrigin + performance.now();
  const bridge = connect(frame, { origin: cocalcOrigin, timeout: 30000 });
  frame.src = kioskUrl;
  try {
    await bridge.ready();
  } catch (error) {
    // CoCalc answers no sender whose host name is not in its iframe_comm_hosts: this page
    // frames the kiosk itself, so its own name must be listed there too.
    return { error: `CoCalc answered no postMessage from ${location.origin}: add `
      + `${location.hostname} to CoCalc's iframe_comm_hosts (${error.code})` };
  }
  await bridge.open({ project_id: projectId, path }, { timeout: 30000 });
  return { started, done: performance.timeOrigin + performance.now() };
};
</script></body></html>"""


def host_app(stack: Stack) -> Flask:
    app = Flask("bench_host")

    @app.get("/")
    def page():
        return HOST_PAGE.replace("GATEWAY", stack.url)

    @app.get("/mint")
    def mint_token():
        token = mint(stack.host["id"], stack.host["secret"], sub=request.args["user"], path=PATH)
        return jsonify(url=f"{stack.url}/launch", token=token)

    return app


OPEN_MARK = "cocalc-gateway:open"
EDITOR_MARK = "cocalc-sim:editor"  # the simulator's kiosk page, once its editor shows


def opened_at(page, gateway_url: str, timeout_s: float = 60) -> float:
    """When the embed page's state became "open" (its User Timing mark), in epoch ms.

    The wait runs inside the page (no polling from here: every round trip to the browser
    would cost the machine CPU that the launch being measured needs)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        frame = next((f for f in page.frames if f.url.startswith(gateway_url + "/embed/")), None)
        if frame is None:
            page.wait_for_timeout(20)
            continue
        try:
            frame.wait_for_function(
                f"() => performance.getEntriesByName('{OPEN_MARK}').length > 0",
                timeout=timeout_s * 1000,
            )
            return frame.evaluate(
                f"() => performance.timeOrigin + performance.getEntriesByName('{OPEN_MARK}')[0]"
                ".startTime"
            )
        except PlaywrightError:  # the frame navigated on (a redirect): find it again
            continue
    raise RuntimeError("the file never opened")


def editor_at(page, timeout_s: float = 60) -> float:
    """When the kiosk frame showed the file's editor (its User Timing mark), in epoch ms."""
    deadline = time.monotonic() + timeout_s
    script = f"() => performance.getEntriesByName('{EDITOR_MARK}').length > 0"
    while time.monotonic() < deadline:
        for frame in page.frames:
            if "/projects/" not in frame.url and "/static/app.html" not in frame.url:
                continue
            try:
                frame.wait_for_function(script, timeout=timeout_s * 1000)
                return frame.evaluate(
                    f"() => performance.timeOrigin + performance.getEntriesByName("
                    f"'{EDITOR_MARK}')[0].startTime"
                )
            except PlaywrightError:  # navigated on: look again
                break
        page.wait_for_timeout(20)
    raise RuntimeError("the editor never showed")


def launch_once(page, host_url: str, gateway_url: str, user: str) -> tuple[float, float]:
    """(click to ``done``, click to the editor on screen), in ms."""
    page.goto(host_url)
    page.wait_for_function("() => typeof window.launch === 'function'")
    page.evaluate("(user) => window.prepare(user)", user)
    # A user clicks a moment after the page appeared, not while the browser still sets up a
    # new context: on two cores that work would be measured as the gateway's (seen: a cold
    # launch's 85 ms POST took 100 to 300 ms while Chromium started a context).
    page.wait_for_timeout(SETTLE_MS)
    page.evaluate("() => window.launch()")
    done = opened_at(page, gateway_url)
    editor = editor_at(page)
    clicked = page.evaluate("() => window.clickAt")
    return done - clicked, editor - clicked


def embed_bytes(page, gateway_url: str) -> int:
    """Bytes on the wire for the embed page and everything it loaded from the gateway."""
    for frame in page.frames:
        if frame.url.startswith(gateway_url + "/embed/"):
            return frame.evaluate(
                "() => performance.getEntriesByType('navigation').concat("
                "performance.getEntriesByType('resource')).filter(e => e.name.startsWith("
                "location.origin)).reduce((sum, e) => sum + (e.transferSize || 0), 0)"
            )
    return 0


def summary(times: list[float]) -> dict:
    return {
        "n": len(times),
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(percentile(times, 95), 1),
        "times_ms": [round(t, 1) for t in times],
    }


def one_dialect(browser, dialect: str, args) -> dict:
    host = ThreadedServer()
    stack = Stack(args.workers, dialect=dialect, origins=[host.url])
    host.start(host_app(stack))
    knobs = {
        "latency_ms": args.latency_ms,
        "page_latency_ms": args.page_latency_ms,
        "editor_delay_ms": args.editor_delay_ms,
    }
    if args.real_like:  # what a real CoCalc costs a browser (the simulator's REAL_LIKE)
        knobs.update(REAL_LIKE)
    stack.sim("config", **knobs)
    try:
        cold, warm, alone, sizes = [], [], [], {}
        editors = {"cold": [], "warm": [], "cocalc_alone": []}
        for i in range(args.launches):
            context = browser.new_context()  # a new user in a fresh browser
            page = context.new_page()
            done, editor = launch_once(page, host.url, stack.url, f"cold-{uuid.uuid4().hex[:8]}")
            cold.append(done)
            editors["cold"].append(editor)
            if i == 0:
                sizes["cold_cache"] = embed_bytes(page, stack.url)
            context.close()
        context = browser.new_context()  # a returning user, in their own browser
        page = context.new_page()
        user = f"warm-{uuid.uuid4().hex[:8]}"
        launch_once(page, host.url, stack.url, user)  # set up once (cold)
        for i in range(args.launches):
            done, editor = launch_once(page, host.url, stack.url, user)
            warm.append(done)
            editors["warm"].append(editor)
            if i == 0:
                sizes["warm_cache"] = embed_bytes(page, stack.url)
        frame = next(f for f in page.frames if f.url.startswith(stack.url + "/embed/"))
        embed = json.loads(frame.evaluate("() => document.getElementById('settings').textContent"))
        kiosk = (
            f"{embed['cocalcOrigin']}/projects/{embed['projectId']}/files/{PATH}"
            "?fullscreen=kiosk&session="
        )
        for _ in range(args.launches):  # the same browser, signed in: CoCalc alone
            page.goto(host.url)
            page.wait_for_function("() => typeof window.alone === 'function'")
            times = page.evaluate(
                "([u, o, p, f]) => window.alone(u, o, p, f)",
                [kiosk, embed["cocalcOrigin"], embed["projectId"], PATH],
            )
            if "error" in times:
                raise RuntimeError(times["error"])
            alone.append(times["done"] - times["started"])
            editors["cocalc_alone"].append(editor_at(page) - times["started"])
        context.close()
    finally:
        host.stop()
        stack.close()
    result = {
        "cold": summary(cold),
        "warm": summary(warm),
        "cocalc_alone": summary(alone),
        "embed_page_bytes": sizes,
        # Click (or, alone, the kiosk URL's load) to the file's editor on screen.
        "editor": {kind: summary(times) for kind, times in editors.items()},
    }
    for kind in ("cold", "warm"):
        result[f"{kind}_gateway_share_p50_ms"] = round(
            result[kind]["p50_ms"] - result["cocalc_alone"]["p50_ms"], 1
        )
        result[f"{kind}_gateway_share_p95_ms"] = round(
            result[kind]["p95_ms"] - result["cocalc_alone"]["p95_ms"], 1
        )
    return result


def chart(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels, data = [], []
    for dialect, result in report["dialects"].items():
        for kind, name in (("cocalc_alone", "CoCalc alone"), ("warm", "warm"), ("cold", "cold")):
            labels.append(f"{dialect}\n{name}")
            data.append(result[kind]["times_ms"])
    figure, axes = plt.subplots(figsize=(9, 4.5), dpi=120)
    axes.boxplot(data, showfliers=True, whis=(5, 95))
    axes.set_xticks(range(1, len(labels) + 1), labels)
    axes.set_ylabel("click to file open (ms)")
    settings = report["settings"]
    axes.set_title(
        f"Time to notebook in Chromium, {settings['launches']} launches each "
        f"({settings['latency_ms']:.0f} ms per CoCalc call, "
        f"{settings['page_latency_ms']:.0f} ms per page load; whiskers p5-p95)",
        fontsize=9,
    )
    axes.grid(axis="y", alpha=0.3)
    figure.tight_layout()
    figure.savefig(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--launches", type=int, default=30)
    parser.add_argument("--latency-ms", type=float, default=20)
    parser.add_argument("--page-latency-ms", type=float, default=20)
    parser.add_argument(
        "--editor-delay-ms", type=float, default=2000, help="done to editor, in the simulator"
    )
    parser.add_argument(
        "--real-like",
        action="store_true",
        help="the simulator with a real CoCalc's delays: a sign-in's hub round trip, the "
        "app's bundle and start-up, done before paint (gateway.dev.simulator REAL_LIKE)",
    )
    parser.add_argument("--dialects", default="v1,current")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--output", default=str(ROOT / "artifacts" / "bench-browser.json"))
    parser.add_argument("--chart", default=str(ROOT / "docs" / "bench-time-to-notebook.png"))
    args = parser.parse_args()

    report = {
        "settings": {
            "launches": args.launches,
            "latency_ms": args.latency_ms,
            "page_latency_ms": args.page_latency_ms,
            "editor_delay_ms": args.editor_delay_ms,
            "real_like": REAL_LIKE if args.real_like else None,
            "workers": args.workers,
        },
        "dialects": {},
    }
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        for dialect in args.dialects.split(","):
            report["dialects"][dialect] = one_dialect(browser, dialect, args)
        browser.close()
    Path(args.output).parent.mkdir(exist_ok=True)
    Path(args.output).write_text(json.dumps(report, indent=2))
    chart(report, Path(args.chart))
    print_table(report)
    print(f"\nwritten to {args.output} and {args.chart}")


def print_table(report: dict) -> None:
    print(f"\n{'time to notebook (ms)':<26}{'p50':>8}{'p95':>8}{'gateway share p50':>20}{'p95':>8}")
    for dialect, r in report["dialects"].items():
        print(
            f"{dialect + ', CoCalc alone':<26}{r['cocalc_alone']['p50_ms']:>8}"
            f"{r['cocalc_alone']['p95_ms']:>8}"
        )
        for kind in ("warm", "cold"):
            print(
                f"{dialect + ', ' + kind:<26}{r[kind]['p50_ms']:>8}{r[kind]['p95_ms']:>8}"
                f"{r[kind + '_gateway_share_p50_ms']:>20}{r[kind + '_gateway_share_p95_ms']:>8}"
            )
        editor = r["editor"]
        print(
            f"  editor on screen, p50: CoCalc alone {editor['cocalc_alone']['p50_ms']}, "
            f"warm {editor['warm']['p50_ms']}, cold {editor['cold']['p50_ms']}"
        )
        sizes = r["embed_page_bytes"]
        print(
            f"  embed page on the wire: {sizes.get('cold_cache')} B cold cache, "
            f"{sizes.get('warm_cache')} B warm cache"
        )


if __name__ == "__main__":
    main()
