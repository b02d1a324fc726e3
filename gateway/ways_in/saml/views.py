"""HTTP views of SAML sign-in: the SP's metadata, the discovery page and the sign-in's
start, the assertion consumer service, and single logout.

Top-level pages of the gateway's own origin (never framed). A sign-in ends where the
OpenID Connect way in's does (``sso.views.land``): a session of the host, its "my
notebooks" and notebook pages.
"""

from __future__ import annotations

from flask import Blueprint, Response, make_response, redirect, render_template, request

from ...errors import GatewayError
from ...hosts import get as get_host
from ...web import cookies, i18n, security
from ...web.current import gateway
from ...web.embed_page import origin_of
from ...web.urls import public_url
from ..sso.views import land
from . import idps, logout, signin, sp

bp = Blueprint("saml", __name__)

#: The IdP a browser chose last for a host, offered first on the discovery page.
CHOICE_PREFIX = "__Host-saml_idp_"
CHOICE_SECONDS = 365 * 24 * 3600


def _choice_cookie(host_id: str) -> str:
    return CHOICE_PREFIX + host_id.removeprefix("host_")


@bp.get("/saml/<host_id>/metadata")
def metadata(host_id):
    gw = gateway()
    get_host(gw, host_id)
    response = Response(sp.metadata_document(gw, host_id), mimetype="application/samlmetadata+xml")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.get("/saml/<host_id>/login")
def login(host_id):
    """Start a sign-in at the IdP named (``?idp=<entityID>``, as a host's own link may), or
    at the host's only IdP; with several, the discovery page."""
    gw = gateway()
    host = get_host(gw, host_id)
    if request.method == "HEAD":
        return Response(status=200)
    entity_id = request.args.get("idp")
    known = idps.of_host(gw, host_id)
    if not entity_id and len(known) == 1:
        entity_id = known[0].entity_id
    if not entity_id:
        return _discovery(host, known)
    idp = idps.for_sign_in(gw, host_id, entity_id)
    started = signin.start(
        gw,
        host_id,
        idp,
        request.args.get("path"),
        client=request.remote_addr,
        ui_locales=request.args.get("ui_locales"),
    )
    response = redirect(started.redirect_url, 302)
    # The IdP's page posts the response from its own site: a Lax cookie would stay behind.
    cookies.set_cookie(
        response,
        signin.cookie_name(started.relay_state),
        started.cookie,
        max_age=int(signin.LIFETIME.total_seconds()),
        samesite="None",
        partitioned=False,
    )
    cookies.set_cookie(
        response,
        _choice_cookie(host_id),
        idp.id,
        max_age=CHOICE_SECONDS,
        samesite="Lax",
        partitioned=False,
    )
    return response


def _discovery(host, known):
    i18n.speak(request.args.get("ui_locales"), host.language)
    chosen = request.cookies.get(_choice_cookie(host.id))
    language = i18n.page_language()
    entries = [
        {"entity_id": idp.entity_id, "name": idps.metadata_of(idp).name(language), "id": idp.id}
        for idp in known
    ]
    entries.sort(key=lambda e: e["name"].casefold())
    remembered = next((e for e in entries if e["id"] == chosen), None)
    page = make_response(
        render_template(
            "saml/discovery.html",
            host=host,
            entries=entries,
            remembered=remembered,
            login_url=public_url("saml.login", host_id=host.id),
            path=request.args.get("path") or "",
        )
    )
    # The choice redirects to the IdP, and a form's redirect is held to form-action.
    sso_origins = sorted({origin_of(idps.metadata_of(idp).sso_url) for idp in known})
    page.headers["Content-Security-Policy"] = security.forms_may_go_to(sso_origins)
    return page


@bp.post("/saml/<host_id>/acs")
def acs(host_id):
    gw = gateway()
    # A response with certificates, encryption and many attributes is bigger than the
    # gateway's usual limit on request bodies.
    request.max_content_length = signin.MAX_FORM_FIELD + 8192
    try:
        done = signin.finish(gw, host_id, request.form, request.cookies)
    except GatewayError as exc:
        exc.back_url = public_url("saml.login", host_id=host_id)
        raise
    return land(
        done.host,
        done.profile,
        path=done.path,
        locale=done.locale,
        session={
            "saml_idp_id": done.idp.id,
            "saml_subject": done.logout_subject,
            "saml_subject_digest": done.logout_digest,
        },
        spending=done.once,
        state_cookie=signin.cookie_name(request.form.get("RelayState") or "-"),
    )


@bp.get("/saml/<host_id>/slo")
def single_logout(host_id):
    gw = gateway()
    get_host(gw, host_id)
    signed_out = public_url("sso.signed_out", host=host_id)
    if request.args.get("SAMLRequest"):
        target = logout.from_idp(gw, host_id, request.args)
        return redirect(target or signed_out, 302)
    # The IdP's answer to the gateway's own request: the session ended before it was sent.
    return redirect(signed_out, 303)
