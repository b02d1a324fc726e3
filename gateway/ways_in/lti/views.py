"""HTTP views of LTI 1.3: login, launch, Deep Linking, key set, configuration, registration,
and the embed page's hand-in. The rules live in the modules beside this one.

Every page here may be framed by any site: an LMS shows tools in frames on origins the
gateway cannot list in advance (a Canvas school's own domain, not its issuer), and no page
here does anything without a one-time key that only the user's own launch holds. The embed
page a launch ends on is framed only by the host's origins, as always.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, redirect, render_template, request

from ...errors import N_, BadRequest, Forbidden, GatewayError
from ...hosts import get as get_host
from ...launches import guard
from ...web import cookies, i18n
from ...web.current import gateway
from ...web.embed_page import gateway_origin, origin_of, page_action, to_page
from ...web.security import DEFAULT_CSP
from ...web.urls import public_url
from . import claims as c
from . import (
    deep_linking,
    full_window,
    grades,
    identity,
    launch,
    login,
    presentation,
    registration,
    review,
    tool_config,
    tool_keys,
)

bp = Blueprint("lti", __name__)

FRAMED_ANYWHERE_CSP = DEFAULT_CSP.replace("frame-ancestors 'none'", "frame-ancestors *")
LOGIN_COOKIE_SECONDS = int(login.LIFETIME.total_seconds())


@bp.after_request
def _may_be_framed(response):
    response.headers.setdefault("Content-Security-Policy", FRAMED_ANYWHERE_CSP)
    return response


def tool_urls() -> tool_config.ToolUrls:
    """The tool's public URLs, from GATEWAY_PUBLIC_URL."""
    return tool_config.ToolUrls(
        login=public_url("lti.login"),
        launch=public_url("lti.launch"),
        jwks=public_url("lti.jwks"),
        register=public_url("lti.register"),
        config=public_url("lti.config"),
    )


def _base() -> str:
    return current_app.config["GATEWAY_PUBLIC_URL"]


def _page(template: str, **values) -> Response:
    return Response(render_template(template, **values), mimetype="text/html")


def _set_login_cookie(response: Response, state: str, value: str, max_age: int) -> None:
    # The first cookie the gateway sets. Partitioned (CHIPS): kept inside the LMS's frame
    # even where third-party cookies are blocked, and readable only there.
    cookies.set_cookie(
        response,
        login.cookie_name(state),
        value,
        max_age=max_age,
        samesite="None",
        partitioned=True,
    )


def _framed() -> bool:
    """The request arrived in a frame (or from a browser without Fetch Metadata)."""
    return request.headers.get("Sec-Fetch-Dest", "iframe") in guard.FRAME_DESTINATIONS


@bp.route("/lti/login", methods=["GET", "POST"], endpoint="login")
def start_login():
    if request.method == "HEAD":
        return Response(status=200)  # a link preview starts no login
    params = request.form if request.method == "POST" else request.args
    answer = login.start(
        gateway(),
        params,
        launch_url=public_url("lti.launch"),
        gateway_base=_base(),
        framed=_framed(),
        client=request.remote_addr,
    )
    if answer.storage_target:
        settings = {
            "mode": "put",
            "target": answer.storage_target,
            "origin": answer.platform_origin,
            "key": login.storage_key(answer.state),
            "value": answer.binding,
            "next": answer.auth_url,
        }
        response = _page("lti/storage.html", settings=settings)
    else:
        response = redirect(answer.auth_url, 302)
    _set_login_cookie(response, answer.state, answer.binding, LOGIN_COOKIE_SECONDS)
    return response


@bp.post("/lti/launch", endpoint="launch")
def receive_launch():
    gw = gateway()
    outcome = launch.receive(gw, request.form, request.cookies, gateway_base=_base())
    if isinstance(outcome, launch.StorageCheck):
        settings = {
            "mode": "get",
            "target": outcome.storage_target,
            "origin": outcome.platform_origin,
            "key": outcome.storage_key,
            "continuation": outcome.continuation,
        }
        return _page("lti/storage.html", settings=settings, action=public_url("lti.storage"))
    response = _go_on(outcome)
    _set_login_cookie(response, request.form["state"], "", 0)  # done with: forget it
    return response


@bp.post("/lti/launch/storage")
def storage():
    own = guard.from_own_page(request.headers, gateway_origin())
    return _go_on(launch.complete_storage(gateway(), request.form, from_own_page=own))


def _go_on(verified: launch.Verified) -> Response:
    """The verified launch's page, by message type. A refusal from here on carries the
    platform's way back (``return_url`` with ``lti_errormsg``) on its error page."""
    i18n.speak(identity.locale_of(verified.claims))
    try:
        return _answer(verified)
    except GatewayError as exc:
        shown = presentation.of(verified.claims)
        if shown.return_url:
            exc.back_url = presentation.back_url(shown.return_url, error=exc.message)
            exc.back_label = presentation.BACK_LABEL
        raise


def _answer(verified: launch.Verified) -> Response:
    gw = gateway()
    message_type = verified.claims[c.MESSAGE_TYPE]
    if message_type == c.DEEP_LINKING_REQUEST:
        host = get_host(gw, verified.platform.host_id)
        picker = deep_linking.open_picker(
            gw, verified.platform, host, verified.claims, once=verified.once
        )
        i18n.speak(picker.locale, host.language)
        return _page(
            "lti/picker.html", picker=picker, host=host, action=public_url("lti.deep_link")
        )
    at_top_level = request.headers.get("Sec-Fetch-Dest") == "document"
    place = launch.place_for(verified, at_top_level=at_top_level)
    if message_type == c.SUBMISSION_REVIEW_REQUEST:
        return to_page(review.open_review(gw, verified, place))
    hand_in = review.hand_in_of(verified.claims.get(c.TARGET_LINK_URI))
    if hand_in is not None:  # Canvas's SpeedGrader opens a hand-in
        return to_page(review.open_hand_in(gw, verified, hand_in, place))
    return to_page(launch.resource_link(gw, verified, place))


@bp.post("/lti/deep-link")
def deep_link():
    gw, key = gateway(), request.form.get("key")
    try:
        return_url, response_jwt = deep_linking.respond(
            gw,
            key,
            request.form.getlist("path"),
            request.form.get("new_path"),
            launch_url=public_url("lti.launch"),
            grader={
                "kind": request.form.get("grader"),
                "path": request.form.get("grader_path"),
                "time_limit": request.form.get("time_limit"),
            },
        )
    except BadRequest as exc:
        picker = deep_linking.reopen(gw, key)
        if picker is None:
            raise
        # The same picker again, saying what was wrong, next to the field it is about.
        host = get_host(gw, picker.host_id)
        i18n.speak(picker.locale, host.language)
        page = _page(
            "lti/picker.html",
            picker=picker,
            host=host,
            action=public_url("lti.deep_link"),
            error=i18n.translated(exc.message_id, exc.params),  # the template escapes it
            error_field=exc.field,
            new_path=request.form.get("new_path") or "",
            grader=request.form.get("grader") or "",
            grader_path=request.form.get("grader_path") or "",
            time_limit=request.form.get("time_limit") or "",
        )
        page.status_code = 400
        return page
    page = _page("lti/autopost.html", action=return_url, fields={"JWT": response_jwt})
    page.headers["Content-Security-Policy"] = FRAMED_ANYWHERE_CSP.replace(
        "form-action 'self'", f"form-action {origin_of(return_url)}"
    )
    return page


@bp.get("/lti/jwks")
def jwks():
    response = jsonify(tool_keys.key_set(gateway()))
    response.headers["Cache-Control"] = "public, max-age=60"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/lti/config.json")
def config():
    return jsonify(tool_config.manual_configuration(tool_urls()))


@bp.route("/lti/register", methods=["GET", "POST"])
def register():
    gw = gateway()
    if request.method == "HEAD":
        return Response(status=200)
    values = request.form if request.method == "POST" else request.args
    code = values.get("code")
    if request.method == "GET":
        host_id, found = registration.confirm(gw, code, values.get("openid_configuration"))
        return _page(
            "lti/register.html",
            host=get_host(gw, host_id),
            platform=found,
            fields={
                "code": code,
                "openid_configuration": values.get("openid_configuration"),
                "registration_token": values.get("registration_token") or "",
            },
            action=public_url("lti.register"),
        )
    platform = registration.register(
        gw, code, values.get("openid_configuration"), values.get("registration_token"), tool_urls()
    )
    return _page("lti/registered.html", platform=platform)


@bp.post("/embed/<key>/hand-in")
def hand_in(key):
    page = page_action(
        key, Forbidden(N_("work can be handed in only from the notebook's own page"))
    )
    done = grades.hand_in(gateway(), page, review_url=public_url("lti.launch"))
    return jsonify(path=done.path, handed_in_at=done.handed_in_at), 201


@bp.post("/embed/<key>/full-window", endpoint="full_window")
def full_window_url(key):
    """The URL a framed LTI page hands the LMS for a full-window launch (its own browser
    only: the page asks for it when the framed sign-in cannot work)."""
    page = page_action(
        key, Forbidden(N_("a full-window launch can be asked for only by the page itself"))
    )
    if page.row.place is not guard.Place.FRAMED:
        raise Forbidden(N_("only a notebook inside the LMS's page opens in the full window"))
    return jsonify(url=full_window.resume_url(gateway(), page.digest, public_url("lti.launch")))


@bp.post("/embed/<key>/grade")
def grade(key):
    """The review page's grade bar (staff only: the page knows whether it may grade)."""
    page = page_action(key, Forbidden(N_("a grade can be given only from the review's own page")))
    return jsonify(review.grade(gateway(), page, request.form).as_dict())
