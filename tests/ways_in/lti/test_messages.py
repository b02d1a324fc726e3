"""One validator per LTI message type, with its required claims as data."""

from __future__ import annotations

import pytest

from gateway.errors import BadRequest
from gateway.ways_in.lti import claims as c
from gateway.ways_in.lti import messages

RESOURCE = {c.MESSAGE_TYPE: c.RESOURCE_LINK_REQUEST, c.RESOURCE_LINK: {"id": "link-1"}}
DEEP = {
    c.MESSAGE_TYPE: c.DEEP_LINKING_REQUEST,
    c.DL_SETTINGS: {"deep_link_return_url": "https://lms.example.edu/return"},
}
REVIEW = {
    c.MESSAGE_TYPE: c.SUBMISSION_REVIEW_REQUEST,
    c.FOR_USER: {"user_id": "student-1"},
    c.AGS_ENDPOINT: {"lineitem": "https://lms.example.edu/lineitems/1"},
}


def test_each_message_type_passes_its_own_validator():
    assert messages.validate(RESOURCE) == c.RESOURCE_LINK_REQUEST
    assert messages.validate(DEEP) == c.DEEP_LINKING_REQUEST
    assert messages.validate(REVIEW) == c.SUBMISSION_REVIEW_REQUEST


@pytest.mark.parametrize(
    ("claims", "words"),
    [
        ({**RESOURCE, c.RESOURCE_LINK: "link-1"}, "no resource link"),
        ({**RESOURCE, c.RESOURCE_LINK: {"id": 7}}, "no resource link id"),
        ({c.MESSAGE_TYPE: c.DEEP_LINKING_REQUEST}, "no deep_linking_settings"),
        ({**DEEP, c.DL_SETTINGS: {}}, "no deep_link_return_url"),
        ({c.MESSAGE_TYPE: c.SUBMISSION_REVIEW_REQUEST}, "no for_user"),
        ({**REVIEW, c.FOR_USER: {"user_id": ""}}, "names no user"),
        ({**REVIEW, c.FOR_USER: {"user_id": ["x"]}}, "names no user"),
        ({**REVIEW, c.AGS_ENDPOINT: {"lineitems": "https://lms.example.edu/li"}}, "no line item"),
        ({c.MESSAGE_TYPE: "LtiStartProctoring"}, "does not handle"),
        ({}, "does not handle"),
    ],
)
def test_what_a_message_type_lacks_is_a_clear_400(claims, words):
    with pytest.raises(BadRequest, match=words):
        messages.validate(claims)


def test_every_message_type_has_a_table_entry_and_one_validator():
    types = [v.message_type for v in messages.VALIDATORS]
    assert sorted(types) == sorted(messages.REQUIRED) and len(set(types)) == len(types)
