"""The LTI message types the gateway takes, each with what its launch must carry.

As pylti1.3's ``message_validators`` (one validator per message type) and ltiauthenticator's
tables of required claims (data, not ``if``s): a new message type, such as
``LtiSubmissionReviewRequest``, is one entry in ``REQUIRED`` and one validator.
"""

from __future__ import annotations

from ...errors import N_, BadRequest
from . import claims as c

#: The claims each message type must carry, and the JSON type each must have.
REQUIRED: dict[str, dict[str, type]] = {
    c.RESOURCE_LINK_REQUEST: {c.RESOURCE_LINK: dict},
    c.DEEP_LINKING_REQUEST: {c.DL_SETTINGS: dict},
    # LTI AGS "Submission Review": the learner, and the line item whose hand-in is reviewed.
    c.SUBMISSION_REVIEW_REQUEST: {c.FOR_USER: dict, c.AGS_ENDPOINT: dict},
}
#: What a missing or malformed claim is called in the error the LMS shows.
NAMES = {
    c.RESOURCE_LINK: "resource link",
    c.DL_SETTINGS: "deep_linking_settings",
    c.FOR_USER: "for_user (whose work to review)",
    c.AGS_ENDPOINT: "line item (Assignment and Grade Services)",
}


class MessageValidator:
    """The checks of one message type: its required claims, then its own rules."""

    message_type: str

    def can_validate(self, claims: dict) -> bool:
        return claims.get(c.MESSAGE_TYPE) == self.message_type

    def validate(self, claims: dict) -> None:
        for claim, kind in REQUIRED[self.message_type].items():
            if not isinstance(claims.get(claim), kind):
                raise BadRequest(N_("the launch has no %(detail)s"), detail=NAMES.get(claim, claim))
        self.check(claims)

    def check(self, claims: dict) -> None:
        """Rules of this message type beyond its required claims."""


class ResourceLinkValidator(MessageValidator):
    message_type = c.RESOURCE_LINK_REQUEST

    def check(self, claims: dict) -> None:
        if not isinstance(claims[c.RESOURCE_LINK].get("id"), str):
            raise BadRequest(N_("the launch has no resource link id"))


class DeepLinkingValidator(MessageValidator):
    message_type = c.DEEP_LINKING_REQUEST

    def check(self, claims: dict) -> None:
        if not isinstance(claims[c.DL_SETTINGS].get("deep_link_return_url"), str):
            raise BadRequest(N_("the Deep Linking request has no deep_link_return_url"))


class SubmissionReviewValidator(MessageValidator):
    message_type = c.SUBMISSION_REVIEW_REQUEST

    def check(self, claims: dict) -> None:
        user = claims[c.FOR_USER].get("user_id")
        if not isinstance(user, str) or not user or len(user) > 255:
            raise BadRequest(N_("the submission review names no user (for_user.user_id)"))
        if not isinstance(claims[c.AGS_ENDPOINT].get("lineitem"), str):
            raise BadRequest(N_("the submission review names no line item"))


VALIDATORS = (ResourceLinkValidator(), DeepLinkingValidator(), SubmissionReviewValidator())


def validate(claims: dict) -> str:
    """Check a launch against its message type's validator; return the message type."""
    for validator in VALIDATORS:
        if validator.can_validate(claims):
            validator.validate(claims)
            return validator.message_type
    message_type = claims.get(c.MESSAGE_TYPE)
    raise BadRequest(
        N_("the gateway does not handle LTI messages of type %(message_type)r"),
        message_type=message_type,
    )
