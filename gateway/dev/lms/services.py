"""The LMS's services, served by the library: its key set, the token endpoint, Assignment
and Grade Services, Names and Role Provisioning Services, and Deep Linking returns."""

from __future__ import annotations

import json

from flask import Blueprint, Response, jsonify, redirect, render_template, request

from .adapters import FlaskRequest, Grades, Roster
from .app import lms_state, platform_conf

bp = Blueprint("lms_services", __name__)


@bp.get("/jwks")
def jwks():
    return jsonify(platform_conf().get_jwks())


@bp.post("/token")
def token():
    state = lms_state()
    with state.lock:
        state.token_requests += 1
    config = platform_conf()
    try:
        return jsonify(config.get_access_token(request.form.to_dict()))
    except Exception:
        # The tool may have rotated its key: a real LMS fetches the tool's key set again.
        config._registration.set_tool_key_set(None)
        try:
            return jsonify(config.get_access_token(request.form.to_dict()))
        except Exception as exc:
            return jsonify(error="invalid_client", error_description=str(exc)), 401


def _reply(answer, *, container: bool = False) -> Response:
    body = answer.result if answer.result is not None else {"message": answer.message}
    link = body.pop("next", None) if isinstance(body, dict) else None
    if container and answer.code == 200 and isinstance(body, dict) and "content" in body:
        # The library wraps the line item container; AGS 3.2 says a JSON array.
        body = body["content"]
    response = Response(json.dumps(body), answer.code, mimetype=answer.media_type)
    if link:  # the library puts it in the body; NRPS says a Link header
        response.headers["Link"] = f'<{link}>; rel="next"'
    return response


def _grades() -> Grades:
    state = lms_state()
    return Grades(FlaskRequest(request), platform_conf(), state, f"{state.url}/lineitems")


@bp.route("/lineitems", methods=["GET", "POST"])
def line_items():
    grades = _grades()
    if request.method == "POST":
        return _reply(grades.handle_resp(grades.handle_create_lineitem))
    return _reply(grades.handle_resp(grades.handle_get_lineitems), container=True)


@bp.post("/lineitems/<item>/scores")
def scores(item):
    grades = _grades()
    return _reply(grades.handle_resp(grades.handle_update_score, line_item_id=item))


@bp.get("/memberships/<context_id>")
def memberships(context_id):
    state = lms_state()
    url = f"{state.url}/memberships/{context_id}"
    if "limit" not in request.args:  # page by default, so tools must follow Link
        return redirect(f"{url}?limit={state.roster_page_size}&page=1", 307)
    roster = Roster(FlaskRequest(request), platform_conf(), state, url, context_id)
    return _reply(roster.handle_resp(roster.handle_get_members))


@bp.post("/deep_link_return")
def deep_link_return():
    state = lms_state()
    try:
        items = platform_conf().validate_deeplinking_resp({"JWT": request.form.get("JWT", "")})
    except Exception as exc:
        return Response(f"the Deep Linking response was refused: {exc}", 400)
    with state.lock:
        state.deep_link_items.extend(items)
        # A content item's line item becomes a gradebook column, as platforms do (LTI-DL
        # 3.4.4): with its submissionReview, so "View submission" can launch the tool.
        for item in items:
            if isinstance(item.get("lineItem"), dict):
                number = str(len(state.line_items) + 1)
                state.line_items[number] = {
                    **item["lineItem"],
                    "id": f"{state.url}/lineitems/{number}",
                    "resourceLinkId": f"dl-{number}",
                }
    return render_template("lms/linked.html", items=items)
