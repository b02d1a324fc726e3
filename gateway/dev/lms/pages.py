"""The LMS's pages: course pages that frame a launch, the link that starts the
third-party-initiated login, and the OIDC authorization endpoint that answers it."""

from __future__ import annotations

import secrets
from urllib.parse import urlencode

from flask import Blueprint, Response, redirect, render_template, request

from .adapters import FlaskRequest, MessageLaunch
from .app import lms_state, platform_conf

bp = Blueprint("lms_pages", __name__)

LIS = "http://purl.imsglobal.org/vocab/lis/v2/membership"
ROLES = {
    "Learner": LIS + "#Learner",
    "Instructor": LIS + "#Instructor",
    "TeachingAssistant": LIS + "/Instructor#TeachingAssistant",
    "ContentDeveloper": LIS + "#ContentDeveloper",
}


def _roles(names: str) -> list[str]:
    return [ROLES.get(n, n) for n in names.split(",") if n]


@bp.get("/")
def home():
    return render_template("lms/course.html", state=lms_state(), course=None)


@bp.get("/course/<context_id>")
def course(context_id):
    """A course page framing one launch (``?user=…&role=…&path=…&storage=…``)."""
    launch_url = f"/course/{context_id}/launch?{urlencode(request.args)}"
    return render_template(
        "lms/course.html",
        state=lms_state(),
        course=context_id,
        launch_url=launch_url,
        storage=bool(request.args.get("storage")),
    )


@bp.get("/course/<context_id>/launch")
def start(context_id):
    """A link to the tool: the third-party-initiated login begins here."""
    state, args, hint = lms_state(), request.args, secrets.token_urlsafe(12)
    state.messages[hint] = {
        "context_id": context_id,
        "user": args.get("user", "student-1"),
        "roles": _roles(args.get("role", "Learner")),
        "name": args.get("name"),
        "email": args.get("email"),
        "path": args.get("path"),
        "message": args.get("message", "resource"),
        "ags": args.get("ags") == "1",
        "nrps": args.get("nrps") == "1",
        "resource_link": args.get("resource", f"link-{context_id}"),
    }
    params = {
        "iss": state.issuer,
        "login_hint": state.messages[hint]["user"],
        "target_link_uri": state.tool_url + "/lti/launch",
        "lti_message_hint": hint,
        "client_id": state.client_id,
        "lti_deployment_id": state.deployment_id,
    }
    if args.get("storage"):
        params["lti_storage_target"] = args["storage"]
    return redirect(state.tool_url + "/lti/login?" + urlencode(params))


def _problems(params, message) -> list[str]:
    state = lms_state()
    checks = (
        ("scope", params.get("scope") == "openid"),
        ("response_type", params.get("response_type") == "id_token"),
        ("response_mode", params.get("response_mode") == "form_post"),
        ("prompt", params.get("prompt") == "none"),
        ("client_id", params.get("client_id") == state.client_id),
        # lti1p3platform 0.1.8 posts to any redirect_uri: the shim checks it.
        ("redirect_uri", params.get("redirect_uri") == state.tool_url + "/lti/launch"),
        ("lti_message_hint", message is not None),
        ("login_hint", message is not None and params.get("login_hint") == message["user"]),
        ("nonce", bool(params.get("nonce"))),
        ("state", bool(params.get("state"))),
    )
    return [name for name, ok in checks if not ok]


@bp.route("/auth", methods=["GET", "POST"])
def authorize():
    """The OIDC authorization endpoint: checks the tool's request, then launches."""
    state, params = lms_state(), request.values
    message = state.messages.get(params.get("lti_message_hint", ""))
    problems = _problems(params, message)
    if problems:
        return Response("invalid authorization request: " + ", ".join(problems), 400)
    launch = MessageLaunch(FlaskRequest(request), platform_conf(), state)
    launch.set_user_data(
        message["user"],
        message["roles"],
        full_name=message["name"],
        email_address=message["email"],
    )
    launch.set_resource_link_claim(message["resource_link"], title="Notebook")
    launch.set_launch_context_claim(message["context_id"], context_title=message["context_id"])
    if message["path"]:
        launch.set_custom_parameters_claim({"path": message["path"]})
    if message["ags"]:
        item = f"{state.url}/lineitems/{message['resource_link']}"
        launch.set_ags(lineitems_url=f"{state.url}/lineitems", lineitem_url=item)
    if message["nrps"]:
        launch.set_nrps(f"{state.url}/memberships/{message['context_id']}")
    if message["message"] == "deeplink":
        launch.set_dl(
            f"{state.url}/deep_link_return",
            accept_types={"ltiResourceLink"},
            extra_data={"opaque": "course-" + message["context_id"]},
        )
    return launch.lti_launch()
