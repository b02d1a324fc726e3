"""HTTP views of the two host-facing ways in: a signed launch token, and the server's API."""

from __future__ import annotations

from flask import Blueprint, g, jsonify, request

from .. import hosts
from ..launches import guard, links
from ..launches.views import arrival_or_answer
from ..web.current import gateway
from ..web.embed_page import to_page
from ..web.inputs import json_body
from ..web.urls import public_url
from . import api, token

bp = Blueprint("ways_in", __name__)


@bp.route("/launch", methods=["GET", "POST"])
def launch_with_token():
    # POST keeps the token out of URLs; GET is for hosts that can only set an iframe src.
    raw = request.form.get("token") if request.method == "POST" else request.args.get("token")
    launch = token.read_token(gateway(), raw)
    g.frame_ancestors = launch.host.origins
    arrival, answer = arrival_or_answer(
        launch.host,
        launch.profile,
        form={"token": raw},
        subject=f"token\0{launch.host.id}\0{launch.jti}",
        locale=launch.locale,
    )
    if answer is not None:
        return answer
    return to_page(links.from_token(gateway(), launch, place=guard.place_of(arrival)))


@bp.post("/api/v1/launches")
def api_launch():
    host = hosts.by_bearer(gateway(), request.headers.get("Authorization"))
    link = links.from_api(gateway(), api.read_api_request(host, json_body()))
    return jsonify(
        url=public_url("launches.redeem", key=link.key),
        expires_at=link.expires_at.isoformat(),
        account_id=link.account_id,
        project_id=link.project_id,
    ), 201
