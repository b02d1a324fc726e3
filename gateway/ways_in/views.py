"""HTTP views of the two host-facing ways in: a signed launch token, and the server's API."""

from __future__ import annotations

from flask import Blueprint, g, jsonify, redirect, request, url_for

from .. import hosts
from ..context import gateway
from ..launches import links
from ..web.inputs import json_body
from . import api, token

bp = Blueprint("ways_in", __name__)


@bp.route("/launch", methods=["GET", "POST"])
def launch_with_token():
    # POST keeps the token out of URLs; GET is for hosts that can only set an iframe src.
    raw = request.form.get("token") if request.method == "POST" else request.args.get("token")
    launch = token.read_token(gateway(), raw)
    g.frame_ancestors = launch.host.origins
    key = links.from_token(gateway(), launch)
    return redirect(url_for("launches.embed", key=key), 303)


@bp.post("/api/v1/launches")
def api_launch():
    host = hosts.by_bearer(gateway(), request.headers.get("Authorization"))
    body = json_body()
    link = links.from_api(gateway(), api.read_api_request(host, body))
    return jsonify(
        url=url_for("launches.redeem", key=link.key, _external=True),
        expires_at=link.expires_at.isoformat(),
        account_id=link.account_id,
        project_id=link.project_id,
    ), 201
