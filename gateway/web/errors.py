"""The one place that turns any error into a response (the tree is in ``gateway.errors``).

The gateway's own errors carry their status. CoCalc's errors (``gateway.cocalc.errors``) are
mapped here too: unreachable or slow CoCalc gives 503/504, any other CoCalc failure 502. A
database that cannot be reached (or a pool with no connection free in time) gives 503. The
text shown never includes CoCalc's reply, a traceback, or a secret; details go to the log,
which holds no secrets either.
"""

from __future__ import annotations

import logging

from flask import Flask, g, jsonify, make_response, render_template, request
from flask_babel import gettext
from sqlalchemy import exc as db_errors
from werkzeug.exceptions import HTTPException

from ..cocalc.errors import CoCalcError, CoCalcTimeout, CoCalcUnavailable
from ..errors import N_, GatewayError
from .i18n import translated
from .security import framed_page_csp

log = logging.getLogger(__name__)


def _cocalc_error(exc: CoCalcError) -> tuple[int, str, str]:
    if isinstance(exc, CoCalcTimeout):
        return 504, "cocalc_timeout", N_("CoCalc did not answer in time. Try again in a moment.")
    if isinstance(exc, CoCalcUnavailable):
        return 503, "cocalc_unavailable", N_("CoCalc could not be reached. Try again in a moment.")
    return 502, "cocalc_error", N_("CoCalc could not complete the request. Try again in a moment.")


#: What a page says for the HTTP errors Werkzeug raises before a view runs (routing, method,
#: body size); any other code is said as a 400 is.
HTTP_MESSAGES = {
    400: (
        N_("Something is wrong with this request"),
        N_("The request could not be understood."),
    ),
    404: (N_("Not found"), N_("There is nothing at this address.")),
    405: (N_("Not allowed"), N_("This address does not take this kind of request.")),
    413: (
        N_("The request is too large"),
        N_("The request is larger than this address accepts."),
    ),
    415: (
        N_("Something is wrong with this request"),
        N_("The request's content type is not one this address accepts."),
    ),
}


def wants_json() -> bool:
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def render_error(
    status: int,
    code: str,
    title: str,
    message: str,
    *,
    field=None,
    retry=False,
    host_origins=None,
    back_url=None,
    back_label=None,
    params=None,
):
    """Build the error response: JSON for APIs, a small HTML page for browsers.

    When the request belongs to a known host (a launch or embed page), the page may be framed
    by the host's origins, so the user sees it inside the host's iframe; for an expired launch
    it also tells the host page, which can fetch a new launch.
    """
    params = params or {}
    english = message % params if params else message
    if wants_json():
        body = {"error": {"code": code, "message": english}}
        if field:
            body["error"]["field"] = field
        return jsonify(body), status
    origins = host_origins if host_origins is not None else g.get("frame_ancestors")
    # The page in the user's language where the catalogues have the text (every title,
    # and the messages people meet most); the JSON and the host page's event stay English.
    html = render_template(
        "error.html",
        status=status,
        title=gettext(title),
        message=translated(message, params),
        retry=retry,
        back_url=back_url,
        back_label=gettext(back_label or N_("Sign in again")),
        notify=_notice(code, english, origins),
    )
    response = make_response(html, status)
    if origins:
        response.headers["Content-Security-Policy"] = framed_page_csp(origins)
    return response


def _notice(code: str, message: str, origins) -> dict | None:
    """What an error page tells the host page framing it: "expired", or "error" with why."""
    if not origins:
        return None
    event = "expired" if code == "expired" else "error"
    return {"event": event, "origins": origins, "data": {"code": code, "message": message}}


def _gateway_error(exc: GatewayError):
    log.info("request refused: %s %s (%s)", exc.status, exc.code, exc.message)
    response = make_response(
        render_error(
            exc.status,
            exc.code,
            exc.title,
            exc.message_id,
            params=exc.params,
            field=exc.field,
            retry=exc.status >= 500,
            host_origins=exc.host_origins,
            back_url=exc.back_url,
            back_label=exc.back_label,
        )
    )
    if getattr(exc, "retry_after", None):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


def init_app(app: Flask) -> None:
    app.register_error_handler(GatewayError, _gateway_error)

    @app.errorhandler(CoCalcError)
    def cocalc_error(exc: CoCalcError):
        status, code, message = _cocalc_error(exc)
        log.warning("CoCalc call failed: %s: %s", type(exc).__name__, exc)
        return render_error(
            status,
            code,
            N_("CoCalc is not available"),
            message,
            retry=True,
        )

    @app.errorhandler(db_errors.OperationalError)
    @app.errorhandler(db_errors.InterfaceError)
    @app.errorhandler(db_errors.TimeoutError)
    def database_unavailable(exc: Exception):
        # Names the driver's error only: its message may carry the database's host name.
        cause = getattr(exc, "orig", None) or exc
        log.error("database unavailable: %s", type(cause).__name__)
        return render_error(
            503,
            "database_unavailable",
            N_("The gateway is not available"),
            N_("The gateway cannot reach its database. Try again in a moment."),
            retry=True,
        )

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        # Werkzeug's own texts are English only: the page says it with the gateway's ids.
        title, message = HTTP_MESSAGES.get(exc.code, HTTP_MESSAGES[400])
        return render_error(exc.code or 500, "http_" + str(exc.code), title, message)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("unexpected error")
        return render_error(
            500,
            "internal",
            N_("Internal error"),
            N_("The gateway failed unexpectedly; the error was logged."),
        )
