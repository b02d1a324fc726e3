"""LTI Dynamic Registration, the platform's side (the shim's own, from the 1EdTech spec:
``lti1p3platform`` has none): the configuration document and the registration endpoint."""

from __future__ import annotations

import secrets

from flask import Blueprint, jsonify, request

from .app import lms_state

TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
bp = Blueprint("lms_registration", __name__)


@bp.get("/.well-known/openid-configuration")
def configuration():
    state = lms_state()
    return jsonify(
        issuer=state.issuer,
        authorization_endpoint=state.url + "/auth",
        token_endpoint=state.url + "/token",
        jwks_uri=state.url + "/jwks",
        registration_endpoint=state.url + "/register",
        scopes_supported=[
            "openid",
            "https://purl.imsglobal.org/spec/lti-ags/scope/score",
            "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
            "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
        ],
        response_types_supported=["id_token"],
        id_token_signing_alg_values_supported=["RS256"],
        **{
            "https://purl.imsglobal.org/spec/lti-platform-configuration": {
                "product_family_code": "lti1p3platform-shim",
                "version": "0.1.8",
            }
        },
    )


@bp.post("/register")
def register():
    state = lms_state()
    if request.headers.get("Authorization") != f"Bearer {state.registration_token}":
        return jsonify(error="invalid_token"), 401
    tool = request.get_json(silent=True) or {}
    required = ("initiate_login_uri", "redirect_uris", "jwks_uri", TOOL_CONFIGURATION)
    if any(name not in tool for name in required):
        return jsonify(error="invalid_client_metadata"), 400
    client_id = "dyn-" + secrets.token_hex(6)
    deployment_id = "dep-" + secrets.token_hex(4)
    with state.lock:
        state.registrations.append({"client_id": client_id, "tool": tool})
    return jsonify(
        client_id=client_id,
        **{
            **tool,
            TOOL_CONFIGURATION: {**tool[TOOL_CONFIGURATION], "deployment_id": deployment_id},
        },
    )
