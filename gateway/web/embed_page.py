"""The embed page as HTTP: the response that issues a page (with its binding cookie), and
the page itself (its template, its settings, its content security policy).

Shared by the views of every way in (``launches``, ``ways_in.lti``, ``ways_in.sso``).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Response, current_app, g, redirect, render_template, request
from flask_babel import format_datetime, format_decimal

from ..errors import N_, Phrase
from ..launches import embed as pages
from ..launches import guard, sites
from ..launches.embed import EmbedPage, Issued
from ..launches.guard import Admission, Place
from ..launches.showing import ActingPage, PageView, act
from . import assets, cookies, i18n, js_messages
from .current import gateway
from .security import embed_csp
from .urls import public_url


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def page_action(key: str, refusal) -> ActingPage:
    """This request as one of a page's own actions, admitted by the one page guard
    (``showing.act``); ``refusal``: what a request from elsewhere gets."""
    return act(
        gateway(),
        key,
        request.headers,
        request.cookies,
        gateway_origin=gateway_origin(),
        refusal=refusal,
    )


def gateway_origin() -> str:
    return origin_of(current_app.config["GATEWAY_PUBLIC_URL"])


def embed_location(key: str) -> str:
    return public_url("launches.embed", key=key)


def to_page(issued: Issued, location: str | None = None) -> Response:
    """Send the browser to a page just issued, with the page's binding cookie set in this
    same response: the page works only in the browser that gets it (``guard``)."""
    response = redirect(location or embed_location(issued.key), 303)
    if issued.binding is None:  # an SSO page: its session binds it
        return response
    framed = issued.place is Place.FRAMED
    cookies.set_cookie(
        response,
        guard.page_cookie(issued.key),
        issued.binding,
        max_age=pages.seconds_left(issued),
        # A framed page's cookie must reach the host's frame, where only a partitioned
        # cookie is kept when the browser blocks third-party cookies.
        samesite="None" if framed else "Lax",
        partitioned=framed,
    )
    for name in _oldest_page_cookies():
        cookies.clear_cookie(response, name, samesite="None", partitioned=True)
        cookies.clear_cookie(response, name, samesite="Lax", partitioned=False)
    return response


def _oldest_page_cookies() -> list[str]:
    """The page cookies this browser sends beyond the newest ``MAX_PAGE_COOKIES - 1``
    (each value starts with the time it was issued)."""
    held = [
        (value.split(".", 1)[0], name)
        for name, value in request.cookies.items()
        if name.startswith(guard.PAGE_COOKIE_PREFIX)
    ]
    held.sort(reverse=True)
    return [name for _, name in held[guard.MAX_PAGE_COOKIES - 1 :]]


def render_view(shown: PageView, header: dict | None = None) -> Response:
    """The response to a page view: the page, or the page that names whose it is."""
    if shown.admission is Admission.OTHER_BROWSER:
        g.frame_ancestors = shown.row.origins
        html = render_template("other_browser.html", owner=shown.owner, host_name=shown.host_name)
        return Response(html, status=403, mimetype="text/html")
    return render_page(shown.page, header)


def _full_window_settings(page: EmbedPage) -> dict | None:
    """A framed LTI page may ask the LMS for a full-window launch before it offers a new
    tab (Canvas's ``lti.requestFullWindowLaunch``, where the platform supports it)."""
    if page.lti is None or page.place is not Place.FRAMED:
        return None
    return {
        "requestUrl": public_url("lti.full_window", key=page.key),
        # A page no cookie reaches cannot ask: its URL came with its one view.
        "url": page.once.full_window_url if page.once else None,
        # Canvas documents the message; others must list it in lti.capabilities.
        "canvas": page.lti.platform_family == "canvas",
        # A tool the platform put in a window of its own opens a new one; else this one.
        "launchType": "new_window" if page.lti.document_target == "window" else "same_window",
    }


def _review_settings(page: EmbedPage) -> dict | None:
    """What the review bar needs: whose hand-in this is, and where a grade goes."""
    review = page.review
    if review is None:
        return None
    return {
        "learner": review.learner_name,
        "handedInAt": review.handed_in_at.isoformat() if review.handed_in_at else None,
        "handedInAtText": (
            format_datetime(review.handed_in_at, "medium") if review.handed_in_at else None
        ),
        "gradeUrl": public_url("lti.grade", key=page.key) if review.may_grade else None,
        "autograde": _autograde_text(review.autograde),
    }


def _autograde_text(run: dict | None) -> str | None:
    """What the review bar says of the autograder's run, in the page's language."""
    if not run:
        return None
    if run.get("status") == "graded":
        numbers = {
            "score": format_decimal(run.get("score") or 0),
            "maximum": format_decimal(run.get("maximum") or 0),
        }
        if run.get("manual"):
            numbers["manual"] = format_decimal(run["manual"])
            return i18n.translated(
                N_("Autograded: %(score)s of %(maximum)s; %(manual)s of it for you to grade"),
                numbers,
            )
        return i18n.translated(N_("Autograded: %(score)s of %(maximum)s"), numbers)
    if run.get("status") == "failed":
        why = Phrase(str(run.get("reason") or ""))
        return i18n.translated(
            N_("The autograder could not grade this hand-in: %(reason)s"), {"reason": why}
        )
    return i18n.translated(N_("The autograder is grading this hand-in"))


def _settings(page: EmbedPage) -> dict:
    """What the page's script reads (its JSON settings element)."""
    config = current_app.config
    key = page.key
    settings = {
        "cocalcOrigin": page.cocalc_origin,
        "projectId": page.project_id,
        "path": page.path,
        "hostOrigins": page.host_origins,
        "expiresAt": page.expires_at.isoformat(),
        "signedInUrl": public_url("launches.signed_in", key=key),
        "startUrl": public_url("launches.start_again", key=key),
        "dialect": page.dialect,
        # The current API's sign-in (the kiosk URL signs in itself on API v1): see the page.
        "signInUrl": page.sign_in.sign_in_url,
        "topLevel": page.top_level,
        # A frame no cookie reaches: its one view signs in nowhere and offers the new tab.
        "once": page.once is not None,
        # Whether a CoCalc frame can sign in under each host origin, and under the gateway's
        # own page (a new tab): "works", "might" or "cannot" (by CoCalc's generation).
        "cookies": sites.verdicts(
            page.host_origins, gateway_origin(), page.cocalc_origin, page.dialect
        ),
        "readyTimeoutMs": config["GATEWAY_BRIDGE_TIMEOUT_MS"],
        # After an attempt that CoCalc answered but did not finish, the page asks for the
        # project to be started again (an interrupted start never opens a file).
        "openTimeoutMs": config["GATEWAY_OPEN_TIMEOUT_MS"],
        "openAttemptMs": config["GATEWAY_OPEN_RETRY_MS"],
        "handInUrl": public_url("lti.hand_in", key=key)
        if page.gradable and not page.once
        else None,
        "review": None if page.once else _review_settings(page),
        "fullWindow": _full_window_settings(page),
        # The scripts' messages in the page's language, from the same catalogues.
        "messages": js_messages.for_page(),
    }
    return settings


def render_page(page: EmbedPage, header: dict | None = None) -> Response:
    """The embed page; ``header`` (a signed-in user's name and links) makes it a full-page
    notebook with a bar on top (the SSO way in)."""
    g.frame_ancestors = page.host_origins
    i18n.speak(page.locale, page.host_language)
    key = page.key
    settings = _settings(page)
    # Only a framed page offers a new tab: its forms carry one-time tickets, asked for by
    # the page itself (a bound action), or carried by the one view no cookie reaches.
    offer = None
    if page.place is Place.FRAMED:
        offer = {
            "url": public_url("launches.new_tab", key=key),
            "ticketUrl": public_url("launches.new_tab_ticket", key=key),
            "tickets": list(page.once.tickets) if page.once else [],
        }
        settings["newTab"] = offer
    modules, modules_hash = assets.import_map(current_app)
    html = render_template(
        "embed.html",
        page=page,
        settings=settings,
        header=header,
        new_tab=offer,
        import_map=modules,
    )
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = embed_csp(
        page.cocalc_origin, page.host_origins, modules_hash
    )
    return response
