"""HTTP views of launches: one-time links, embed pages, and what the embed page reports."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, redirect, render_template, url_for

from ..context import gateway
from ..web.security import embed_csp
from . import service

bp = Blueprint("launches", __name__)


@bp.get("/launch/<key>")
def redeem(key):
    return redirect(url_for("launches.embed", key=service.redeem_handoff(gateway(), key)), 303)


@bp.get("/embed/<key>")
def embed(key):
    page = service.load_embed(gateway(), key)
    settings = {
        "cocalcOrigin": page.cocalc_origin,
        "projectId": page.project_id,
        "path": page.path,
        "hostOrigins": page.host_origins,
        "expiresAt": page.expires_at.isoformat(),
        "signedInUrl": url_for("launches.signed_in", key=key),
        "dialect": page.dialect,
        "readyTimeoutMs": int(current_app.config.get("GATEWAY_BRIDGE_TIMEOUT_MS") or 20000),
        "openTimeoutMs": 60000,
    }
    html = render_template("embed.html", page=page, settings=settings)
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = embed_csp(page.cocalc_origin, page.host_origins)
    return response


@bp.post("/embed/<key>/signed-in")
def signed_in(key):
    service.signed_in(gateway(), key)
    return "", 204
