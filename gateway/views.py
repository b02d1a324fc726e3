"""HTTP routes. Each view parses its input, calls one service function, and renders."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy import text

from . import baselines, handoff, hosts, launches, metrics
from .context import gateway
from .security import embed_csp

bp = Blueprint("gateway", __name__)


@bp.get("/")
def index():
    return render_template("index.html")


@bp.route("/launch", methods=["GET", "POST"])
def launch_with_token():
    # POST keeps the token out of URLs; GET is for hosts that can only set an iframe src.
    token = request.form.get("token") if request.method == "POST" else request.args.get("token")
    launch = handoff.read_token(gateway(), token)
    g.frame_ancestors = launch.host.origins
    key = launches.from_token(gateway(), launch)
    return redirect(url_for("gateway.embed", key=key), 303)


@bp.post("/api/v1/launches")
def api_launch():
    host = hosts.by_bearer(gateway(), request.headers.get("Authorization"))
    body = request.get_json(silent=True) if request.is_json else None
    link = launches.from_api(gateway(), handoff.read_api_request(host, body))
    return jsonify(
        url=url_for("gateway.redeem", key=link.key, _external=True),
        expires_at=link.expires_at.isoformat(),
        account_id=link.account_id,
        project_id=link.project_id,
    ), 201


@bp.get("/launch/<key>")
def redeem(key):
    return redirect(url_for("gateway.embed", key=launches.redeem_handoff(gateway(), key)), 303)


@bp.get("/embed/<key>")
def embed(key):
    page = launches.load_embed(gateway(), key)
    settings = {
        "cocalcOrigin": page.cocalc_origin,
        "projectId": page.project_id,
        "path": page.path,
        "hostOrigins": page.host_origins,
        "expiresAt": page.expires_at.isoformat(),
        "signedInUrl": url_for("gateway.signed_in", key=key),
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
    launches.signed_in(gateway(), key)
    return "", 204


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    """Report whether the database and CoCalc answer, and which CoCalc dialect is in use."""
    checks, ready = {}, True
    try:
        with gateway().db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        checks["database"] = {"ok": True}
    except Exception as exc:
        checks["database"], ready = {"ok": False, "error": type(exc).__name__}, False
    try:
        client = gateway().cocalc
        client.ping()
        checks["cocalc"] = {
            "ok": True,
            "dialect": client.dialect,
            "key_is_admin": gateway().connector.key_is_admin(),
        }
    except Exception as exc:
        checks["cocalc"] = {"ok": False, "error": getattr(exc, "message", type(exc).__name__)}
        ready = False
    return jsonify(
        status="ready" if ready else "unavailable", checks=checks, embedding=embedding_checklist()
    ), (200 if ready else 503)


def embedding_checklist() -> dict:
    """What CoCalc's operator must allow for this gateway (the gateway cannot see it)."""
    public = urlsplit(current_app.config["GATEWAY_PUBLIC_URL"])
    return {
        "gateway_origin": f"{public.scheme}://{public.netloc}",
        "https_on_port_443": public.scheme == "https" and public.port in (None, 443),
        "iframe_comm_hosts_must_list": public.hostname,
        "samesite_remember_me": "none, unless host site, gateway and CoCalc share one site",
    }


def init_app(app: Flask) -> None:
    if app.config.get("GATEWAY_BENCH_ENDPOINT"):
        baselines.init_app(app)
    app.register_blueprint(bp)
    app.register_blueprint(metrics.bp)
