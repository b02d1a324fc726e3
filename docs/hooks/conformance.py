# ruff: noqa: E501 (a table of prose, one criterion a row)
"""MkDocs hook: the Accessibility Conformance Report (VPAT 2.5, WCAG edition, WCAG 2.2 A and
AA), written from one table of every success criterion (``CRITERIA``; a test checks that it
holds each criterion of WCAG 2.2 A and AA exactly once) and from what the browser tests run:
axe-core's version (from the npm lock file) and the WCAG tags its runs use
(``tests/browser/accessibility.py``)."""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "procurement" / "accessibility.md"

SUPPORTS, PARTIAL, NOT_APPLICABLE, NOT_EVALUATED = (
    "Supports",
    "Partially Supports",
    "Not Applicable",
    "Not Evaluated",
)
AXE = "axe-core on every page state (`tests/browser/test_accessibility.py`)"
KEYBOARD = "keyboard-only Chromium tests (Tab order, Enter, focus moves)"
NO_MEDIA = "the gateway's pages hold no audio or video"

#: (number, name, level, verdict, how it was tested and what it rests on)
CRITERIA = [
    (
        "1.1.1",
        "Non-text Content",
        "A",
        SUPPORTS,
        f"{AXE}: images have text alternatives; the CoCalc frame is titled",
    ),
    ("1.2.1", "Audio-only and Video-only (Prerecorded)", "A", NOT_APPLICABLE, NO_MEDIA),
    ("1.2.2", "Captions (Prerecorded)", "A", NOT_APPLICABLE, NO_MEDIA),
    (
        "1.2.3",
        "Audio Description or Media Alternative (Prerecorded)",
        "A",
        NOT_APPLICABLE,
        NO_MEDIA,
    ),
    (
        "1.3.1",
        "Info and Relationships",
        "A",
        SUPPORTS,
        f"{AXE}; landmarks, headings, labels and lists in the markup; Chromium's accessibility tree checked on the SAML discovery page",
    ),
    (
        "1.3.2",
        "Meaningful Sequence",
        "A",
        SUPPORTS,
        "reading order is the source order; no CSS reordering",
    ),
    (
        "1.3.3",
        "Sensory Characteristics",
        "A",
        SUPPORTS,
        "instructions name controls by their labels, never by shape, place or colour (review of the templates)",
    ),
    (
        "1.4.1",
        "Use of Color",
        "A",
        SUPPORTS,
        "states (open, loading, trouble, signed out) are said in text, not colour alone (review; axe's link-in-text-block rule)",
    ),
    ("1.4.2", "Audio Control", "A", NOT_APPLICABLE, NO_MEDIA),
    (
        "2.1.1",
        "Keyboard",
        "A",
        SUPPORTS,
        f"{KEYBOARD}: the problem message, the new-tab offer, the grade bar, the hand-in, the Deep Linking picker, the discovery page",
    ),
    (
        "2.1.2",
        "No Keyboard Trap",
        "A",
        SUPPORTS,
        f"{KEYBOARD}: focus leaves each control and the page; inside the CoCalc frame focus is CoCalc's",
    ),
    (
        "2.1.4",
        "Character Key Shortcuts",
        "A",
        NOT_APPLICABLE,
        "the gateway's pages define no single-key shortcuts",
    ),
    (
        "2.2.1",
        "Timing Adjustable",
        "A",
        PARTIAL,
        "one-time launch links and sign-in states expire (60 s to 10 minutes) for security, and the single sign-on session after 8 hours, without a warning; when they do, the page says so and offers to start again, and no work is lost (CoCalc saves it)",
    ),
    (
        "2.2.2",
        "Pause, Stop, Hide",
        "A",
        SUPPORTS,
        "the only moving content is a loading indicator that ends when the notebook opens (and honours prefers-reduced-motion)",
    ),
    ("2.3.1", "Three Flashes or Below Threshold", "A", SUPPORTS, "nothing flashes"),
    (
        "2.4.1",
        "Bypass Blocks",
        "A",
        SUPPORTS,
        f"{AXE} (region, landmark rules): one main landmark per page and no repeated navigation",
    ),
    (
        "2.4.2",
        "Page Titled",
        "A",
        SUPPORTS,
        f"{AXE} (document-title); titles name the page and the host, translated",
    ),
    (
        "2.4.3",
        "Focus Order",
        "A",
        SUPPORTS,
        f"{KEYBOARD}: the problem message takes the focus, its buttons follow in order",
    ),
    (
        "2.4.4",
        "Link Purpose (In Context)",
        "A",
        SUPPORTS,
        'links say where they go ("Sign in again", "Back to the course", "Open in a new tab")',
    ),
    ("2.5.1", "Pointer Gestures", "A", SUPPORTS, "single clicks only"),
    ("2.5.2", "Pointer Cancellation", "A", SUPPORTS, "native buttons and links act on release"),
    ("2.5.3", "Label in Name", "A", SUPPORTS, f"{AXE} (label-content-name-mismatch)"),
    ("2.5.4", "Motion Actuation", "A", NOT_APPLICABLE, "nothing responds to device motion"),
    (
        "3.1.1",
        "Language of Page",
        "A",
        SUPPORTS,
        f"{AXE} (html-has-lang, html-lang-valid); every page in English, German, Spanish or French as the launch, the host or the browser asks, `dir` for right-to-left tags (`tests/browser/test_languages.py`)",
    ),
    ("3.2.1", "On Focus", "A", SUPPORTS, "focus changes nothing by itself"),
    (
        "3.2.2",
        "On Input",
        "A",
        SUPPORTS,
        "typing in the discovery search filters the list and says the count; nothing is submitted until a button is pressed",
    ),
    (
        "3.2.6",
        "Consistent Help",
        "A",
        NOT_APPLICABLE,
        "the gateway's pages offer no help mechanism (help is the host's or the LMS's)",
    ),
    (
        "3.3.1",
        "Error Identification",
        "A",
        SUPPORTS,
        "every error page and form error says what went wrong in text, in the user's language (`tests/test_messages.py`, `tests/web/test_languages.py`); the Deep Linking picker marks the field in error (aria-invalid) and focuses it",
    ),
    (
        "3.3.2",
        "Labels or Instructions",
        "A",
        SUPPORTS,
        f"{AXE} (label rules); the picker, the grade bar and the discovery search have visible labels",
    ),
    (
        "3.3.7",
        "Redundant Entry",
        "A",
        SUPPORTS,
        "no process asks for the same information twice; the discovery page remembers the last institution",
    ),
    (
        "4.1.2",
        "Name, Role, Value",
        "A",
        SUPPORTS,
        f"{AXE} (aria-*, button-name, frame-title); native controls; Chromium's accessibility tree checked on the discovery page",
    ),
    ("1.2.4", "Captions (Live)", "AA", NOT_APPLICABLE, NO_MEDIA),
    ("1.2.5", "Audio Description (Prerecorded)", "AA", NOT_APPLICABLE, NO_MEDIA),
    ("1.3.4", "Orientation", "AA", SUPPORTS, "no orientation lock; pages reflow"),
    (
        "1.3.5",
        "Identify Input Purpose",
        "AA",
        SUPPORTS,
        f"{AXE} (autocomplete-valid); the one field about the user, the institution search, has autocomplete=organization",
    ),
    ("1.4.3", "Contrast (Minimum)", "AA", SUPPORTS, f"{AXE} (color-contrast) on every page state"),
    (
        "1.4.4",
        "Resize Text",
        "AA",
        SUPPORTS,
        "the reflow test at 320 CSS px (400 % of a 1280 px window, 200 % of a 640 px one) loses no content; sizes in rem",
    ),
    ("1.4.5", "Images of Text", "AA", SUPPORTS, "no images of text"),
    (
        "1.4.10",
        "Reflow",
        "AA",
        SUPPORTS,
        "`test_at_320_px_nothing_scrolls_sideways`: every gateway page at 320 CSS px without horizontal scrolling (the notebook itself is CoCalc's)",
    ),
    (
        "1.4.11",
        "Non-text Contrast",
        "AA",
        SUPPORTS,
        "focus outlines and control borders at 3:1 or more (review of gateway.css; the focus outline is tested visible)",
    ),
    (
        "1.4.12",
        "Text Spacing",
        "AA",
        SUPPORTS,
        "`test_text_spacing_loses_no_text`: with the criterion's spacing applied, no text is clipped on the confirmation, error, embed (with its bars) and picker pages, at 1280 and 320 px",
    ),
    (
        "1.4.13",
        "Content on Hover or Focus",
        "AA",
        NOT_APPLICABLE,
        "no content appears on hover or focus",
    ),
    (
        "2.4.5",
        "Multiple Ways",
        "AA",
        NOT_APPLICABLE,
        "the gateway's pages are steps of a process (a launch, a sign-in), which the criterion exempts",
    ),
    (
        "2.4.6",
        "Headings and Labels",
        "AA",
        SUPPORTS,
        f"{AXE} (empty-heading, label); headings describe the page",
    ),
    (
        "2.4.7",
        "Focus Visible",
        "AA",
        SUPPORTS,
        "`test_the_problem_message_takes_the_focus…` asserts a visible outline",
    ),
    (
        "2.4.11",
        "Focus Not Obscured (Minimum)",
        "AA",
        SUPPORTS,
        "nothing overlays the focused control (the notice bar sits below the frame, not over controls)",
    ),
    ("2.5.7", "Dragging Movements", "AA", NOT_APPLICABLE, "nothing is dragged"),
    ("2.5.8", "Target Size (Minimum)", "AA", SUPPORTS, f"{AXE} (target-size, a WCAG 2.2 AA rule)"),
    (
        "3.1.2",
        "Language of Parts",
        "AA",
        SUPPORTS,
        "institution names come with the language their metadata gives; the rest is in the page's language",
    ),
    (
        "3.2.3",
        "Consistent Navigation",
        "AA",
        SUPPORTS,
        "the notebook bar (name, My notebooks, Sign out) is the same on every single sign-on page",
    ),
    (
        "3.2.4",
        "Consistent Identification",
        "AA",
        SUPPORTS,
        "the same function has the same name on every page (one catalogue of messages)",
    ),
    (
        "3.3.3",
        "Error Suggestion",
        "AA",
        SUPPORTS,
        'errors say what to do ("sign in again", "open the link in the LMS again", which attribute an IdP must release)',
    ),
    (
        "3.3.4",
        "Error Prevention (Legal, Financial, Data)",
        "AA",
        SUPPORTS,
        "a grade is shown for review before it is posted and can be changed; a hand-in can be made again; nothing legal or financial",
    ),
    (
        "3.3.8",
        "Accessible Authentication (Minimum)",
        "AA",
        SUPPORTS,
        "the gateway asks for no password, code or puzzle: people sign in at their host, LMS or identity provider, whose pages are theirs",
    ),
    (
        "4.1.3",
        "Status Messages",
        "AA",
        SUPPORTS,
        "the embed page's state and the discovery count are live regions (`role=status`), read without moving focus",
    ),
]


def _axe_version() -> str:
    lock = ROOT / "tests" / "peers" / "axe" / "package-lock.json"
    try:
        return json.loads(lock.read_text())["packages"]["node_modules/axe-core"]["version"]
    except (OSError, KeyError, ValueError):
        return "?"


def _axe_tags() -> str:
    source = (ROOT / "tests" / "browser" / "accessibility.py").read_text()
    found = re.search(r"TAGS = \[([^\]]*)\]", source)
    return found.group(1).replace('"', "") if found else "?"


def page() -> str:
    rows = [
        "| criterion | level | conformance | remarks and how it was tested |",
        "|---|---|---|---|",
    ]
    for number, name, level, verdict, how in CRITERIA:
        rows.append(f"| {number} {name} | {level} | {verdict} | {how.replace('|', '/')} |")
    counts = {
        v: sum(1 for c in CRITERIA if c[3] == v)
        for v in (SUPPORTS, PARTIAL, NOT_APPLICABLE, NOT_EVALUATED)
    }
    summary = ", ".join(f"{n} {v.lower()}" for v, n in counts.items() if n)
    return (
        f"""<!-- generated by docs/hooks/conformance.py: edit the table there -->
# Accessibility Conformance Report

**VPAT® 2.5, WCAG edition** · product: cocalc-gateway (the gateway's own pages) ·
standard: WCAG 2.2, levels A and AA · {len(CRITERIA)} criteria: {summary}.

**Scope.** The pages the gateway serves: the embed page around the CoCalc frame (its loading,
open, trouble, new-tab and expired states), the message and error pages, the confirmation
page, the LTI pages (Deep Linking picker, hand-in, grade bar, full-window and Dynamic
Registration pages), the single sign-on pages (my notebooks, notebook page, signed out) and
the SAML discovery page, in English, German, Spanish and French. **Not in scope: CoCalc's
own interface inside the frame** (the notebook, the editor, the file browser): its
conformance is CoCalc's, and a report for it comes from CoCalc's makers. The pages of the
host, the LMS and the identity provider are theirs.

**How it was evaluated.** Automated: axe-core {_axe_version()} with the tags {_axe_tags()}
on every page and state above, in Chromium, on every run of the test suite (a violation
fails the build). By tests a person wrote to act as a user: keyboard-only paths through each
interactive page, focus placement and visibility, reflow at 320 CSS px, every page in four
languages, and Chromium's accessibility tree (what a screen reader reads) for the discovery
page. No screen reader (NVDA, JAWS, VoiceOver, Orca) runs on the build machines: a manual
pass with one is the next step, and this report will say so until it is done.

**Conformance levels** as VPAT defines them: *Supports*, *Partially Supports*, *Does Not
Support*, *Not Applicable* (and *Not Evaluated*, which no criterion needs today).

## WCAG 2.2 success criteria, levels A and AA

"""
        + "\n".join(rows)
        + "\n"
    )


def write() -> None:
    text = page()
    if not PAGE.exists() or PAGE.read_text() != text:
        PAGE.parent.mkdir(parents=True, exist_ok=True)
        PAGE.write_text(text)


def on_pre_build(config, **kwargs) -> None:
    write()
