"""HTTP views of launches: one-time links, embed pages, and what the embed page reports."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, redirect, render_template, url_for

from ..context import gateway
from ..web.security import embed_csp
from . import embed as pages
from . import links

bp = Blueprint("launches", __name__)

#: How long the embed page tries to open its file in all, and per attempt: after an attempt
#: CoCalc answered but did not finish, the page asks for the project to be started again.
OPEN_TIMEOUT_MS, OPEN_ATTEMPT_MS = 60000, 15000


@bp.get("/launch/<key>")
def redeem(key):
    return redirect(url_for("launches.embed", key=links.redeem_handoff(gateway(), key)), 303)


@bp.get("/embed/<key>")
def embed(key):
    page = pages.load(gateway(), key)
    settings = {
        "cocalcOrigin": page.cocalc_origin,
        "projectId": page.project_id,
        "path": page.path,
        "hostOrigins": page.host_origins,
        "expiresAt": page.expires_at.isoformat(),
        "signedInUrl": url_for("launches.signed_in", key=key),
        "startUrl": url_for("launches.start_again", key=key),
        "dialect": page.dialect,
        "readyTimeoutMs": int(current_app.config.get("GATEWAY_BRIDGE_TIMEOUT_MS") or 20000),
        "openTimeoutMs": OPEN_TIMEOUT_MS,
        "openAttemptMs": OPEN_ATTEMPT_MS,
    }
    html = render_template("embed.html", page=page, settings=settings)
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = embed_csp(page.cocalc_origin, page.host_origins)
    return response


@bp.post("/embed/<key>/signed-in")
def signed_in(key):
    pages.signed_in(gateway(), key)
    return "", 204


@bp.post("/embed/<key>/start")
def start_again(key):
    """The page's ``open`` did not complete: ask CoCalc to start the project again."""
    started = pages.restart_project(gateway(), key)
    return jsonify(started=started), 202
