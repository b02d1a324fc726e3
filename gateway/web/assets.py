"""Static files for speed: content-hashed URLs cached for a year, others revalidated, and
text compressed.

Templates link ``asset_url('embed-page.js')``: the URL carries the first characters of the
file's SHA-256, so a browser may keep it a year (``immutable``) and a new release is a new
URL. The modules that page scripts import by name (``./cocalc-bridge.js``) reach their hashed
URLs through the page's import map, so a warm page loads every script from the cache without
asking. Files fetched without the hash (``cocalc-embed.js``, which host pages import by name)
are revalidated on each use (``no-cache`` with an ETag: a 304 when unchanged). Scripts,
styles and type files are sent gzipped to browsers that accept it; the compressed bytes are
made once per file version.
"""

from __future__ import annotations

import base64
import functools
import gzip
import hashlib
import json
import time
from pathlib import Path

from flask import Flask, request, url_for

YEAR_S = 365 * 24 * 3600
COMPRESSED = (".js", ".css", ".ts", ".html", ".svg", ".json")
#: Modules that the page scripts import by relative name.
IMPORTED_MODULES = ("cocalc-bridge.js", "messaging.js")
MIN_COMPRESS_BYTES = 512
#: A file's version is looked up again (a stat) at most this often: a page names five
#: assets, and a stat and a URL build each cost more than the rest of the page's template.
RECHECK_S = 2.0
_versions: dict[str, tuple[float, str | None]] = {}


@functools.lru_cache(maxsize=256)
def _digest(path: str, mtime_ns: int) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]


def _file(app: Flask, filename: str) -> Path:
    return Path(app.static_folder) / filename


def version(app: Flask, filename: str) -> str | None:
    """The first characters of the file's SHA-256 (None when there is no such file)."""
    key = f"{app.static_folder}/{filename}"
    now = time.monotonic()
    known = _versions.get(key)
    if known is not None and now - known[0] < RECHECK_S:
        return known[1]
    path = _file(app, filename)
    try:
        found = _digest(str(path), path.stat().st_mtime_ns)
    except OSError:
        found = None
    _versions[key] = (now, found)
    return found


@functools.lru_cache(maxsize=1024)
def _static_url(script_root: str, filename: str, found: str | None) -> str:
    # The URL depends only on these (the app's static route is fixed): built once each.
    return url_for("static", filename=filename, **({"v": found} if found else {}))


def hashed_url(app: Flask, filename: str) -> str:
    """``/static/<filename>?v=<version>`` under the request's script root."""
    return _static_url(request.script_root, filename, version(app, filename))


@functools.lru_cache(maxsize=64)
def _import_map(pairs: tuple[tuple[str, str], ...]) -> tuple[str, str]:
    text = json.dumps({"imports": dict(pairs)}, separators=(",", ":"))
    digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
    return text, f"'sha256-{digest}'"


def import_map(app: Flask) -> tuple[str, str]:
    """The import map that sends each imported module to its hashed URL, and the CSP source
    (``'sha256-…'``) that allows this one inline script and nothing else."""
    pairs = tuple(
        (_static_url(request.script_root, filename, None), hashed_url(app, filename))
        for filename in IMPORTED_MODULES
    )
    return _import_map(pairs)


@functools.lru_cache(maxsize=256)
def _gzipped(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=9, mtime=0)


def init_app(app: Flask) -> None:
    app.jinja_env.globals["asset_url"] = functools.partial(hashed_url, app)

    @app.after_request
    def _static(response):
        if request.endpoint != "static" or response.status_code not in (200, 304):
            return response
        filename = (request.view_args or {}).get("filename", "")
        current = version(app, filename)
        if current is not None and request.args.get("v") == current:
            response.headers["Cache-Control"] = f"public, max-age={YEAR_S}, immutable"
        else:
            response.headers["Cache-Control"] = "no-cache"
        if (
            response.status_code == 200
            and filename.endswith(COMPRESSED)
            and "gzip" in request.headers.get("Accept-Encoding", "")
        ):
            response.direct_passthrough = False
            data = response.get_data()
            if len(data) >= MIN_COMPRESS_BYTES:
                response.set_data(_gzipped(data))
                response.headers["Content-Encoding"] = "gzip"
        response.vary.add("Accept-Encoding")
        return response
