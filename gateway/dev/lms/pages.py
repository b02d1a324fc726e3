"""The LMS's pages: course pages that frame a launch, the link that starts the
third-party-initiated login, the OIDC authorization endpoint that answers it, a gradebook
whose "View submission" starts a submission review, and the page a tool's way back
(``return_url``) leads to.

Beyond ``lti1p3platform`` (which builds resource-link and Deep Linking launches only), the
shim builds ``LtiSubmissionReviewRequest`` launches (the ``for_user`` claim, the line item's
``submissionReview`` URL and custom parameters, from the 1EdTech AGS spec), may refuse
several content items (``accept_multiple``: false), sends ``launch_presentation``, and its
course page answers Canvas's ``lti.requestFullWindowLaunch`` (``lms-platform.js``)."""

from __future__ import annotations

import secrets
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, redirect, render_template, request

from .adapters import FlaskRequest, MessageLaunch
from .app import lms_state, platform_conf

bp = Blueprint("lms_pages", __name__)

LIS = "http://purl.imsglobal.org/vocab/lis/v2/membership"
LTI = "https://purl.imsglobal.org/spec/lti/claim/"
DL_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
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
        full_window=request.args.get("fullwindow") == "1",
    )


@bp.get("/course/<context_id>/gradebook")
def gradebook(context_id):
    """Line items and scores; a line item with a ``submissionReview`` offers "View
    submission" per learner with a score, launched for the teacher (``?user=&role=``)."""
    state = lms_state()
    return render_template(
        "lms/gradebook.html",
        state=state,
        course=context_id,
        items=list(state.line_items.items()),
        scores=list(state.scores),
        teacher=request.args.get("user", "teacher-1"),
        role=request.args.get("role", "Instructor"),
    )


@bp.get("/course/<context_id>/return")
def returned(context_id):
    """Where a tool's "Back to the course" leads (``launch_presentation.return_url``)."""
    return render_template(
        "lms/returned.html",
        course=context_id,
        message=request.args.get("lti_msg"),
        error=request.args.get("lti_errormsg"),
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
        # "1": a line item of the link's own; "items": only the line item service
        "ags": {"1": True, "items": "items"}.get(args.get("ags"), False),
        "nrps": args.get("nrps") == "1",
        "resource_link": args.get("resource", f"link-{context_id}"),
        "multiple": args.get("multiple") != "0",
        "new": args.get("new"),  # the custom "new" of a Deep Linking new notebook
        # A link Deep Linking made: its custom parameters are the Nth content item's.
        "item": args.get("item"),
        "return": args.get("return") == "1",
        "locale": args.get("locale"),  # the course's language (launch_presentation.locale)
        "document_target": args.get("document_target", "iframe"),
        "for_user": args.get("for_user"),
        # The roles the platform names for a review's learner (AGS for_user.roles), if any.
        "for_roles": _roles(args.get("for_role", "")),
        "lineitem": args.get("lineitem"),
        # The platform's product family (tool_platform), e.g. "canvas" to act as Canvas.
        "family": args.get("family"),
    }
    target = _target(state, state.messages[hint], args.get("target"))
    state.messages[hint]["target"] = target
    params = {
        "iss": state.issuer,
        "login_hint": state.messages[hint]["user"],
        "target_link_uri": target,
        "lti_message_hint": hint,
        "client_id": state.client_id,
        "lti_deployment_id": state.deployment_id,
    }
    if args.get("storage"):
        params["lti_storage_target"] = args["storage"]
    return redirect(state.tool_url + "/lti/login?" + urlencode(params))


def _target(state, message, asked) -> str:
    """The launch's target: the tool's launch URL, a full-window request's URL (a URL of
    the tool's only), or a submission review's line item's ``submissionReview.url``."""
    if message["message"] == "review":
        review = _review_of(state, message["lineitem"])
        return review.get("url") or state.tool_url + "/lti/launch"
    if asked:
        if not asked.startswith(state.tool_url + "/"):
            abort(400, "a full-window launch must be of the tool's own URL")
        return asked
    return state.tool_url + "/lti/launch"


def _review_of(state, lineitem) -> dict:
    """The line item's ``submissionReview``: without one, the platform offers no review."""
    item = next((i for i in state.line_items.values() if i.get("id") == lineitem), None)
    if item is None or not isinstance(item.get("submissionReview"), dict):
        abort(400, "this line item offers no submission review")
    return item["submissionReview"]


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
    if message["name"]:
        state.names[message["user"]] = message["name"]
    launch.set_user_data(
        message["user"],
        message["roles"],
        full_name=message["name"],
        email_address=message["email"],
    )
    launch.set_launch_url(message["target"])
    if message["family"]:
        platform = {"product_family_code": message["family"], "guid": state.issuer}
        launch.set_extra_claims({LTI + "tool_platform": platform})
    launch.set_resource_link_claim(message["resource_link"], title="Notebook")
    launch.set_launch_context_claim(message["context_id"], context_title=message["context_id"])
    custom = {"path": message["path"]} if message["path"] else {}
    if message["new"]:
        custom["new"] = message["new"]
    if message["item"] is not None:  # as the LMS launches a link the tool's response made
        custom = dict(state.deep_link_items[int(message["item"])].get("custom") or {})
    if message["return"] or message["locale"]:
        launch.set_launch_presentation_claim(
            document_target=message["document_target"],
            return_url=f"{state.url}/course/{message['context_id']}/return"
            if message["return"]
            else None,
        )
    if message["locale"]:  # LTI 1.3 §6.1.4; the library has no parameter for it
        launch.lti_claim_launch_presentation[LTI + "launch_presentation"]["locale"] = message[
            "locale"
        ]
    if message["message"] == "review":
        _submission_review(launch, state, message, custom)
    elif message["ags"] == "items":  # no line item of its own: the tool finds or makes one
        launch.set_ags(lineitems_url=f"{state.url}/lineitems")
    elif message["ags"]:
        item = f"{state.url}/lineitems/{message['resource_link']}"
        launch.set_ags(lineitems_url=f"{state.url}/lineitems", lineitem_url=item)
    if custom:
        launch.set_custom_parameters_claim(custom)
    if message["nrps"]:
        launch.set_nrps(f"{state.url}/memberships/{message['context_id']}")
    if message["message"] == "deeplink":
        launch.set_dl(
            f"{state.url}/deep_link_return",
            accept_types={"ltiResourceLink"},
            extra_data={"opaque": "course-" + message["context_id"]},
        )
        # The library always says accept_multiple: true; a platform may say false.
        launch._deep_linking_launch_data[DL_SETTINGS]["accept_multiple"] = message["multiple"]
        launch._deep_linking_launch_data[DL_SETTINGS]["accept_lineitem"] = True
    return launch.lti_launch()


def _submission_review(launch, state, message, custom: dict) -> None:
    """An ``LtiSubmissionReviewRequest``: the reviewer is the launch's user, ``for_user``
    the learner; the AGS claim names the reviewed line item (1EdTech AGS, Submission
    Review). The line item's ``submissionReview.custom`` joins the custom parameters."""
    review = _review_of(state, message["lineitem"])
    custom.update(review.get("custom") or {})
    launch.set_ags(lineitems_url=f"{state.url}/lineitems", lineitem_url=message["lineitem"])
    learner = message["for_user"] or "student-1"
    launch.set_extra_claims(
        {
            LTI + "message_type": "LtiSubmissionReviewRequest",
            LTI + "for_user": {
                "user_id": learner,
                "name": state.names.get(learner, learner),
                **({"roles": message["for_roles"]} if message["for_roles"] else {}),
            },
        }
    )
