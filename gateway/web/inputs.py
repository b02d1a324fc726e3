"""Reading request bodies without trusting them: any malformed body is a clear 400."""

from __future__ import annotations

import json

from flask import request

from ..errors import N_, BadRequest


def json_body():
    """The request's JSON body, or BadRequest; ``None`` when it is not sent as JSON.

    Flask's own parser lets a deeply nested document raise RecursionError (a 500); here
    every way JSON can be malformed is the client's error.
    """
    if not request.is_json:
        return None
    try:
        return json.loads(request.get_data(cache=True) or b"null")
    except (ValueError, RecursionError):
        raise BadRequest(N_("the request body is not valid JSON")) from None
