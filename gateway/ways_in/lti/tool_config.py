"""What the gateway tells an LMS about itself: the URLs, keys, scopes and placements of
the tool, as a Dynamic Registration request and as a JSON document for manual set-up
(Canvas reads this shape as a "JSON URL" developer key)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from urllib.parse import urlsplit

from . import claims as c

TITLE = "CoCalc notebooks"
DESCRIPTION = "Collaborative Jupyter notebooks and files in CoCalc, one project per course."
SCOPES = (c.SCOPE_LINEITEM, c.SCOPE_LINEITEM_READ, c.SCOPE_SCORE, c.SCOPE_MEMBERSHIPS)
CLAIMS = ("iss", "sub", "name", "given_name", "family_name", "email")


@dataclass(frozen=True)
class ToolUrls:
    """The tool's public URLs (the web layer builds them from ``GATEWAY_PUBLIC_URL``)."""

    login: str
    launch: str
    jwks: str
    register: str
    config: str

    def as_dict(self) -> dict:
        return asdict(self)


def registration_request(u: ToolUrls, host_name: str, platform_scopes: list) -> dict:
    """The client metadata posted to the platform's registration endpoint."""
    scopes = [s for s in SCOPES if not platform_scopes or s in platform_scopes]
    return {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": u.login,
        "redirect_uris": [u.launch],
        "client_name": f"{TITLE} ({host_name})",
        "jwks_uri": u.jwks,
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": " ".join(scopes),
        "https://purl.imsglobal.org/spec/lti-tool-configuration": {
            "domain": urlsplit(u.launch).netloc,
            "target_link_uri": u.launch,
            "description": DESCRIPTION,
            "claims": list(CLAIMS),
            "messages": [
                {"type": c.RESOURCE_LINK_REQUEST, "target_link_uri": u.launch},
                {
                    "type": c.DEEP_LINKING_REQUEST,
                    "target_link_uri": u.launch,
                    "label": TITLE,
                    "placements": ["ContentArea", "link_selection", "assignment_selection"],
                    "supported_types": ["ltiResourceLink"],
                },
            ],
        },
    }


#: Canvas's placements, and why each (Canvas's names; "Deep Linking" opens the picker):
CANVAS_PLACEMENTS = (
    # A graded assignment: one notebook or a new one, with a line item to hand in to.
    ("assignment_selection", c.DEEP_LINKING_REQUEST),
    # Module items: several notebooks at once (Canvas sends accept_multiple here).
    ("link_selection", c.DEEP_LINKING_REQUEST),
    # A notebook link inside a page's text.
    ("editor_button", c.DEEP_LINKING_REQUEST),
    # The course's own tab: each member's project of the course (off until a teacher
    # turns it on in the course's navigation settings).
    ("course_navigation", c.RESOURCE_LINK_REQUEST),
)


def manual_configuration(u: ToolUrls) -> dict:
    """``/lti/config.json``: the generic URLs, and Canvas's developer-key JSON fields
    (checked against Canvas's schema in the tests)."""
    placements = []
    for name, message_type in CANVAS_PLACEMENTS:
        placement = {
            "placement": name,
            "message_type": message_type,
            "target_link_uri": u.launch,
            "text": TITLE,
        }
        if name == "course_navigation":
            placement["default"] = "disabled"
        placements.append(placement)
    return {
        "title": TITLE,
        "description": DESCRIPTION,
        "oidc_initiation_url": u.login,
        "target_link_uri": u.launch,
        "public_jwk_url": u.jwks,
        "scopes": list(SCOPES),
        "initiate_login_uri": u.login,
        "redirect_uris": [u.launch],
        "jwks_uri": u.jwks,
        "dynamic_registration_url": u.register,
        "custom_fields": {},
        "extensions": [
            {
                "platform": "canvas.instructure.com",
                "privacy_level": "public",
                "domain": urlsplit(u.launch).netloc,
                "settings": {"text": TITLE, "placements": placements},
            }
        ],
    }
