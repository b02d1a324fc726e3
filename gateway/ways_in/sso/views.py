"""HTTP views of OpenID Connect sign-in: login, callback, my notebooks, notebook, sign-out.

These are top-level pages of the gateway's own origin (never framed). The sign-in is the
top-level flow the login-CSRF rule allows: the callback proves that this browser signed
in at the provider and started this very sign-in (its state cookie). Its notebook pages
are SSO pages (``guard.Place.SSO``): bound to the session that opened them, shown only
under ``/sso/notebook/<key>`` to the browser holding that session, never under ``/embed/``.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, Response, redirect, render_template, request

from ... import provisioning
from ...errors import N_, Forbidden, GatewayError, NotFound
from ...hosts import HOST_ID
from ...hosts import get as get_host
from ...launches import catalogue, guard, pipeline, showing
from ...launches.guard import Admission, Place
from ...launches.request import LaunchRequest
from ...provisioning import users
from ...provisioning.paths import clean_path
from ...store.models import UserProject
from ...support.keys import digest
from ...web import cookies, i18n
from ...web.current import gateway
from ...web.embed_page import gateway_origin, render_view
from ...web.urls import public_url
from ..saml import idps as saml_idps
from ..saml import logout as saml_logout
from . import providers, sessions, signin

bp = Blueprint("sso", __name__)


def _cookie(response: Response, name: str, value: str, max_age: int) -> None:
    cookies.set_cookie(response, name, value, max_age=max_age, samesite="Lax", partitioned=False)


def _same_origin() -> None:
    if not guard.from_own_page(request.headers, gateway_origin()):
        raise Forbidden(N_("this can be done only from the gateway's own pages"))


@bp.get("/sso/<host_id>/login")
def login(host_id):
    if request.method == "HEAD":
        return Response(status=200)
    started = signin.start(
        gateway(),
        host_id,
        request.args.get("path"),
        redirect_uri=public_url("sso.callback"),
        provider_id=request.args.get("provider"),
        client=request.remote_addr,
        ui_locales=request.args.get("ui_locales"),
    )
    response = redirect(started.authorization_url, 302)
    _cookie(
        response,
        signin.cookie_name(started.state),
        started.cookie,
        int(signin.LIFETIME.total_seconds()),
    )
    return response


@bp.get("/sso/callback")
def callback():
    gw = gateway()
    if request.method == "HEAD":
        return Response(status=200)
    try:
        done = signin.finish(
            gw, request.args, request.cookies, redirect_uri=public_url("sso.callback")
        )
    except GatewayError as exc:  # a way back: sign in again
        arrived = signin.arrived(gw, request.args)
        if arrived is not None:
            exc.back_url = public_url("sso.login", host_id=arrived.host_id)
        raise
    return land(
        done.host,
        done.profile,
        path=done.path,
        locale=done.locale,
        session={"provider_id": done.provider.id, "id_token": done.id_token},
        spending=(done.once,) if done.once else (),
        state_cookie=signin.cookie_name(request.args["state"]),
    )


def land(host, profile, *, path, locale, session: dict, spending, state_cookie: str):
    """Where every single sign-on ends (OpenID Connect and SAML): the user provisioned, a
    session of the host started (its one-time values spent with it), then the file asked
    for, opened through the launch pipeline, or the user's notebooks."""
    gw = gateway()
    ready = provisioning.provision(gw, host, profile)
    key = sessions.create(gw, host.id, ready.user_id, locale=locale, spending=spending, **session)
    if path:
        request_ = LaunchRequest(host, profile, path, "", via="sso", locale=locale)
        page = pipeline.open(
            gw, request_, place=Place.SSO, provisioned=ready, session_digest=digest(key)
        )
        response = redirect(public_url("sso.notebook", key=page.key), 303)
    else:
        response = redirect(public_url("sso.notebooks", host_id=host.id), 303)
    cookie = sessions.cookie_name(host.id)
    _cookie(response, cookie, key, int(sessions.LIFETIME.total_seconds()))
    _cookie(response, state_cookie, "", 0)
    return response


def sign_in_url(host_id: str) -> str:
    """Where a host's users sign in: its OpenID Provider, or else its SAML IdPs' page."""
    gw = gateway()
    if not providers.of_host(gw, host_id) and saml_idps.of_host(gw, host_id):
        return public_url("saml.login", host_id=host_id)
    return public_url("sso.login", host_id=host_id)


def _session_or_sign_in(host_id: str):
    session = sessions.current(gateway(), request.cookies, host_id)
    if session is None:
        return None, redirect(sign_in_url(host_id), 303)
    return session, None


def _contexts(user_id: int) -> list[str]:
    rows = gateway().db.fetch_all(
        UserProject.__table__.select()
        .with_only_columns(UserProject.context)
        .where(UserProject.user_id == user_id)
        .order_by(UserProject.id)
    )
    return [r.context for r in rows]


@bp.get("/sso/<host_id>/notebooks")
def notebooks(host_id):
    session, answer = _session_or_sign_in(host_id)
    if answer is not None:
        return answer
    host = get_host(gateway(), host_id)
    i18n.speak(session.locale, host.language)
    return render_template(
        "sso/notebooks.html",
        host=host,
        session=session,
        items=catalogue.offer(gateway(), host),
        contexts=_contexts(session.user_id),
        open_url=public_url("sso.open_notebook", host_id=host_id),
        sign_out_url=public_url("sso.sign_out"),
    )


@bp.post("/sso/<host_id>/open")
def open_notebook(host_id):
    _same_origin()
    session, answer = _session_or_sign_in(host_id)
    if answer is not None:
        return answer
    gw = gateway()
    context = request.form.get("context") or ""
    if context and context not in _contexts(session.user_id):
        raise NotFound(N_("you have no project for this context"))  # no new projects at will
    launch = LaunchRequest(
        get_host(gw, host_id),
        users.profile_of(gw, session.user_id),
        clean_path(request.form.get("path")),
        context,
        via="sso",
        locale=session.locale,
    )
    page = pipeline.open(gw, launch, place=Place.SSO, session_digest=session.digest)
    return redirect(public_url("sso.notebook", key=page.key), 303)


@bp.get("/sso/notebook/<key>")
def notebook(key):
    gw = gateway()
    owner = showing.owner(gw, key, Place.SSO)
    session = sessions.current(gw, request.cookies, owner.host_id) if owner else None
    shown = None
    if session is not None:
        shown = showing.view(gw, key, request.headers, request.cookies, places=(Place.SSO,))
    if shown is None or shown.admission is Admission.OTHER_BROWSER:
        raise NotFound(N_("this notebook page is not open in this browser; sign in again"))
    header = {
        "host_id": owner.host_id,
        "host_name": get_host(gw, owner.host_id).name,
        "user_name": session.user_name,
        "notebooks_url": public_url("sso.notebooks", host_id=owner.host_id),
        "sign_out_url": public_url("sso.sign_out"),
    }
    return render_view(shown, header)


@bp.post("/sso/logout")
def sign_out():
    """Sign out of the host named in the form (the notebook bar's button), or of every
    host this browser holds a session of."""
    _same_origin()
    gw = gateway()
    named = request.form.get("host")
    host_ids = (
        [named] if named and HOST_ID.match(named) else sessions.hosts_signed_in(request.cookies)
    )
    ended = [s for s in (sessions.current(gw, request.cookies, h) for h in host_ids) if s]
    for session in ended:
        sessions.end(gw, session)
    target = public_url("sso.signed_out", **({"host": host_ids[0]} if len(host_ids) == 1 else {}))
    # RP-initiated logout at the provider of the (first) session that ended, if it has it.
    session = ended[0] if ended else None
    if session is not None:
        target = public_url("sso.signed_out", host=session.host_id)
        at_provider = _sign_out_at_provider(gw, session)
        if at_provider:
            # A page that moves on, not a redirect: the form that posted here may only
            # send to the gateway itself (form-action 'self' also covers redirects).
            response = Response(render_template("sso/leaving.html", target=at_provider))
            _forget_sessions(response, host_ids)
            return response
    response = redirect(target, 303)
    _forget_sessions(response, host_ids)
    return response


def _sign_out_at_provider(gw, session) -> str | None:
    """Where the identity provider ends its own session: OpenID Connect's RP-initiated
    logout, or SAML single logout; None where it has none."""
    if session.saml_idp_id:
        return saml_logout.request_to_idp(gw, session)
    provider = providers.get(gw, session.provider_id)
    end_session = provider.endpoints.get("end_session_endpoint")
    if not (end_session and session.id_token_encrypted):
        return None
    query = {
        "id_token_hint": gw.box.decrypt(session.id_token_encrypted),
        "post_logout_redirect_uri": public_url("sso.signed_out"),
        "client_id": provider.client_id,
        "state": session.host_id,  # comes back: the page links to this site's sign-in
    }
    return end_session + ("&" if "?" in end_session else "?") + urlencode(query)


def _forget_sessions(response: Response, host_ids) -> None:
    for host_id in host_ids:
        _cookie(response, sessions.cookie_name(host_id), "", 0)


@bp.get("/sso/signed-out")
def signed_out():
    host_id = request.args.get("host") or request.args.get("state")
    if host_id is not None and not HOST_ID.match(host_id):
        host_id = None
    return render_template(
        "sso/signed_out.html",
        again_url=sign_in_url(host_id) if host_id else None,
    )
