"""axe-core (npm, tests/peers/axe) run inside Chromium on a page or frame: the WCAG 2.0, 2.1
and 2.2 A and AA rules. CoCalc's own page inside the embed page's frame is CoCalc's, not the
gateway's: the audit stops at that frame."""

from __future__ import annotations

from pathlib import Path

AXE = Path(__file__).resolve().parents[1] / "peers" / "axe" / "node_modules" / "axe-core"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]

_RUN = """async (tags) => {
  const result = await axe.run(document, {
    runOnly: {type: "tag", values: tags},
    iframes: false,
    resultTypes: ["violations"],
  });
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map((n) => n.target.join(" ") + ": " + n.failureSummary),
  }));
}"""


def axe_source() -> str:
    source = AXE / "axe.min.js"
    if not source.exists():
        raise AssertionError(f"{source} is missing: `make peers` installs npm's axe-core")
    return source.read_text()


def violations(frame) -> list[dict]:
    """The WCAG A/AA violations axe finds in ``frame`` (a Playwright page or frame).

    axe is evaluated through the DevTools protocol, which the pages' Content Security Policy
    does not govern, so the pages are audited with their real policy in force."""
    if not frame.evaluate("() => typeof window.axe === 'object'"):
        frame.evaluate(axe_source())
    return frame.evaluate(_RUN, TAGS)


def assert_accessible(frame, where: str) -> None:
    found = violations(frame)
    assert not found, f"{where}: " + "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']}\n    " + "\n    ".join(v["nodes"]) for v in found
    )
