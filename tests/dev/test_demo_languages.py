"""The demo's pages speak the visitor's language (``?locale=``, else ``Accept-Language``),
from their own catalogue, and the demo host passes its language on with the launch, so the
embed page speaks it too: over real HTTP, against the whole demo stack."""

from __future__ import annotations

import re

import pytest
import requests

from gateway.dev.demo import start_stack
from gateway.support import concurrency
from gateway.web import current

LANG = re.compile(r'<html lang="([^"]*)" dir="(ltr|rtl)">')
FRAMED = {"Sec-Fetch-Dest": "iframe", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Site": "cross-site"}


@pytest.fixture(scope="module")
def stack():
    stack = start_stack("current", lms_port=0)
    yield stack
    concurrency.wait_idle()
    for name in ("lms", "host", "gateway", "simulator"):
        stack[name].stop()
    current.close(stack["app"])


def get(url: str, **headers) -> str:
    reply = requests.get(url, headers=headers, timeout=10)
    assert reply.status_code == 200, reply.text[:300]
    return reply.text


def language(html: str) -> tuple[str, str]:
    return LANG.search(html).groups()


def test_the_demo_host_page_speaks_the_browser_s_language(stack):
    html = get(stack["host"].url, **{"Accept-Language": "es-ES,es;q=0.9,en;q=0.5"})
    assert language(html) == ("es", "ltr")
    assert ">Iniciar</button>" in html and "Vía de entrada" in html
    assert ">Launch</button>" not in html
    # Each language link is named in its own language, the current one marked for screen readers.
    assert '<a href="?locale=es" lang="es" hreflang="es" aria-current="true">Español</a>' in html


def test_a_language_asked_for_in_the_url_beats_the_browser_s(stack):
    html = get(f"{stack['host'].url}/?locale=fr", **{"Accept-Language": "de"})
    assert language(html) == ("fr", "ltr") and ">Lancer</button>" in html
    # A right-to-left language without a catalogue: laid out right to left, in English.
    html = get(f"{stack['host'].url}/?locale=he-IL")
    assert language(html) == ("he-IL", "rtl") and ">Launch</button>" in html
    # A malformed tag is no choice: the browser's language instead.
    html = get(f"{stack['host'].url}/?locale=<script>", **{"Accept-Language": "de"})
    assert language(html) == ("de", "ltr") and "<script>" not in html.split("</header>")[0]


@pytest.mark.parametrize("way", ["token", "api"])
def test_the_host_page_s_language_goes_with_the_launch_to_the_embed_page(stack, way):
    session = requests.Session()
    reply = session.post(
        f"{stack['host'].url}/demo/launch",
        json={"user": "alice", "path": "welcome.md", "way": way, "locale": "de"},
        timeout=30,
    )
    assert reply.status_code in (200, 201), reply.text[:300]
    launch = reply.json()
    if way == "token":
        reply = session.post(
            launch["url"],
            data={"token": launch["token"]},
            headers=FRAMED,
            allow_redirects=True,
            timeout=30,
        )
    else:
        reply = session.get(launch["url"], headers=FRAMED, timeout=30)
    assert reply.status_code == 200 and "/embed/" in reply.url, reply.text[:300]
    assert language(reply.text) == ("de", "ltr")
    assert "CoCalc wird geöffnet…" in reply.text


def test_the_demo_lms_pages_speak_the_course_s_or_the_browser_s_language(stack):
    lms = stack["lms"].url
    home = get(lms, **{"Accept-Language": "de-DE,de;q=0.9"})
    assert language(home) == ("de", "ltr") and "<h1>Kurse</h1>" in home
    # A language asked for in the URL stays on the links to the next pages.
    home = get(f"{lms}/?locale=fr")
    assert "<h1>Cours</h1>" in home and '&amp;locale=fr">Le carnet de notes' in home
    course = get(f"{lms}/course/demo-course?user=s1&path=welcome.md&locale=es")
    assert language(course) == ("es", "ltr") and 'title="Cuaderno de CoCalc"' in course
    # The course's language is also the launch's (launch_presentation.locale).
    assert "locale=es" in re.search(r'<iframe id="tool"[^>]* src="([^"]+)"', course).group(1)
    gradebook = get(f"{lms}/course/demo-course/gradebook?locale=fr")
    assert "<h1>Carnet de notes</h1>" in gradebook and ">Apprenant</th>" in gradebook
    returned = get(f"{lms}/course/demo-course/return?locale=de", **{"Accept-Language": "fr"})
    assert "Zurück in demo-course" in returned
