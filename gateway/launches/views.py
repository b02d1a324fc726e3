"""HTTP views of launches: one-time links, embed pages, and what the embed page reports."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, redirect, render_template, url_for

from ..context import gateway
from ..web.security import embed_csp
from . import embed as pages
from . import links

bp = Blueprint("launches", __name__)


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
        "readyTimeoutMs": current_app.config["GATEWAY_BRIDGE_TIMEOUT_MS"],
        # After an attempt that CoCalc answered but did not finish, the page asks for the
        # project to be started again (an interrupted start never opens a file).
        "openTimeoutMs": current_app.config["GATEWAY_OPEN_TIMEOUT_MS"],
        "openAttemptMs": current_app.config["GATEWAY_OPEN_RETRY_MS"],
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
