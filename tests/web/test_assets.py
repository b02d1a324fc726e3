"""Static files: hashed URLs cached for good, others revalidated, text gzipped, and the
embed page's import map allowed by its CSP hash and pointing at hashed URLs only."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import re

from gateway.web import assets
from tests.launching import launch, mint

IMPORT_MAP = re.compile(r'<script type="importmap">(.*?)</script>', re.S)


def hashed_url(app, filename: str) -> str:
    with app.test_request_context():
        return app.jinja_env.globals["asset_url"](filename)


def test_a_hashed_url_is_cached_for_a_year_and_others_are_revalidated(app, client):
    url = hashed_url(app, "cocalc-bridge.js")
    assert re.fullmatch(r"/static/cocalc-bridge\.js\?v=[0-9a-f]{12}", url)
    hashed = client.get(url)
    assert hashed.headers["Cache-Control"] == f"public, max-age={assets.YEAR_S}, immutable"
    for stale in ("/static/cocalc-bridge.js", "/static/cocalc-bridge.js?v=000000000000"):
        reply = client.get(stale)
        assert reply.status_code == 200 and reply.headers["Cache-Control"] == "no-cache"
    etag = client.get("/static/cocalc-embed.js").headers["ETag"]
    again = client.get("/static/cocalc-embed.js", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.headers["Cache-Control"] == "no-cache"


def test_text_is_gzipped_for_browsers_that_accept_it(client):
    plain = client.get("/static/cocalc-bridge.js")
    assert "Content-Encoding" not in plain.headers
    packed = client.get("/static/cocalc-bridge.js", headers={"Accept-Encoding": "gzip, br"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["Vary"]
    assert gzip.decompress(packed.get_data()) == plain.get_data()
    assert len(packed.get_data()) < len(plain.get_data()) / 2


def test_the_embed_pages_import_map_is_allowed_by_its_hash_and_names_hashed_urls(app, client, host):
    page = client.get(launch(client, mint(host.id, host.secret)).headers["Location"])
    html = page.get_data(as_text=True)
    text = IMPORT_MAP.search(html).group(1)
    digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
    script_src = next(
        part
        for part in page.headers["Content-Security-Policy"].split(";")
        if part.strip().startswith("script-src")
    )
    assert script_src.split() == ["script-src", "'self'", f"'sha256-{digest}'"]
    imports = json.loads(text)["imports"]
    assert set(imports) == {f"/static/{name}" for name in assets.IMPORTED_MODULES}
    for plain, hashed in imports.items():
        assert hashed == hashed_url(app, plain.removeprefix("/static/"))
        assert "immutable" in client.get(hashed).headers["Cache-Control"]
    # Every script the page names is at a hashed URL (a browser keeps it without asking).
    for src in re.findall(r'<(?:script|link)[^>]+(?:src|href)="(/static/[^"]+)"', html):
        assert "?v=" in src, src


def test_other_pages_allow_no_inline_script(client):
    assert "script-src 'self';" in client.get("/").headers["Content-Security-Policy"]
