"""Roles by the vocabulary: every role of the LIS v2 vocabularies LTI 1.3 names, its
sub-roles, the institution and system roles, and LTI 1.1's short names and URNs, checked
against one table of who is staff of a course."""

from __future__ import annotations

import pytest

from gateway.ways_in.lti import roles

M = "http://purl.imsglobal.org/vocab/lis/v2/membership"
I = "http://purl.imsglobal.org/vocab/lis/v2/institution/person"  # noqa: E741
S = "http://purl.imsglobal.org/vocab/lis/v2/system/person"

# The whole vocabulary, written out (LTI 1.3 Core, appendix A.2), with the verdict a
# security reviewer expects. A sub-role is staff exactly when its principal is.
STAFF_PRINCIPALS = {"Administrator", "ContentDeveloper", "Instructor"}
SUB_ROLES = {
    "Administrator": [
        "Administrator", "Developer", "ExternalDeveloper", "ExternalSupport",
        "ExternalSystemAdministrator", "Support", "SystemAdministrator",
    ],
    "ContentDeveloper": ["ContentDeveloper", "ContentExpert", "ExternalContentExpert", "Librarian"],
    "Instructor": [
        "ExternalInstructor", "Grader", "GuestInstructor", "Lecturer", "PrimaryInstructor",
        "SecondaryInstructor", "TeachingAssistant", "TeachingAssistantGroup",
        "TeachingAssistantOffering", "TeachingAssistantSection",
        "TeachingAssistantSectionAssociation", "TeachingAssistantTemplate",
    ],
    "Learner": ["ExternalLearner", "GuestLearner", "Instructor", "Learner", "NonCreditLearner"],
    "Manager": ["AreaManager", "CourseCoordinator", "ExternalObserver", "Manager", "Observer"],
    "Member": ["Member"],
    "Mentor": [
        "Advisor", "Auditor", "ExternalAdvisor", "ExternalAuditor", "ExternalLearningFacilitator",
        "ExternalMentor", "ExternalReviewer", "ExternalTutor", "LearningFacilitator", "Mentor",
        "Reviewer", "Tutor",
    ],
    "Officer": ["Chair", "Communications", "Secretary", "Treasurer", "Vice-Chair"],
}  # fmt: skip
INSTITUTION = [
    "Administrator", "Faculty", "Guest", "None", "Other", "Staff", "Student", "Alumni",
    "Instructor", "Learner", "Member", "Mentor", "Observer", "ProspectiveStudent",
]  # fmt: skip
SYSTEM = ["Administrator", "None", "AccountAdmin", "Creator", "SysAdmin", "SysSupport", "User"]


def every_context_role():
    for principal, subs in SUB_ROLES.items():
        staff = principal in STAFF_PRINCIPALS
        yield f"{M}#{principal}", staff
        yield principal, staff  # LTI 1.1's short name
        yield f"urn:lti:role:ims/lis/{principal}", staff
        for sub in subs:
            yield f"{M}/{principal}#{sub}", staff
            yield f"urn:lti:role:ims/lis/{principal}/{sub}", staff


def every_other_role():
    for name in INSTITUTION:
        yield f"{I}#{name}"
        yield f"urn:lti:instrole:ims/lis/{name}"
    for name in SYSTEM:
        yield f"{S}#{name}"
        yield f"urn:lti:sysrole:ims/lis/{name}"
    yield "http://purl.imsglobal.org/vocab/lti/system/person#TestUser"


@pytest.mark.parametrize(("role", "staff"), list(every_context_role()))
def test_every_context_role_and_sub_role(role, staff):
    assert roles.parse(role) is not None, role  # the table knows the whole vocabulary
    assert roles.is_staff([role]) is staff, role


@pytest.mark.parametrize("role", list(every_other_role()))
def test_institution_and_system_roles_are_never_staff(role):
    assert roles.parse(role).kind in ("institution", "system")
    assert roles.is_staff([role]) is False


@pytest.mark.parametrize(
    "role",
    [
        f"{M}/Learner#Instructor",  # the finding: a learner's sub-role named Instructor
        f"{M}/Learner#TeachingAssistant",  # not a sub-role of Learner at all
        f"{M}/Mentor#Instructor",
        f"{M}/Member#ContentDeveloper",
        f"{M}/Instructor#Hacker",  # not in the vocabulary
        f"{M}#Teacher",
        f"{M}/Instructor",  # no sub-role after the principal
        f"{M}/#Instructor",
        f"{M}x#Instructor",
        f"{M}/x/Instructor#Grader",
        f"{I}#Instructor#Instructor",
        f"{S}#Administrator",
        f"{I}#Administrator",
        "http://example.com/membership#Instructor",
        "https://purl.imsglobal.org/vocab/lis/v2/membership#Instructor",  # https is another URI
        "instructor",  # names are case-sensitive
        "Instructor ",
        "",
        "#Instructor",
        "urn:lti:role:ims/lis/Learner/Instructor",
        "urn:lti:instrole:ims/lis/Instructor",
        "urn:lti:sysrole:ims/lis/Administrator",
    ],
)
def test_names_that_only_look_like_staff_are_not(role):
    assert roles.is_staff([role]) is False


def test_teaching_assistants_as_platforms_send_them_are_staff():
    assert roles.is_staff([f"{M}#TeachingAssistant"])
    assert roles.is_staff(["TeachingAssistant"])
    assert roles.is_staff([f"{M}/Instructor#TeachingAssistant"])


def test_a_list_is_staff_when_any_role_is_and_nothing_else_counts():
    assert roles.is_staff([f"{M}#Learner", f"{M}#Instructor"])
    assert not roles.is_staff([f"{M}#Learner", f"{M}/Learner#Instructor", f"{I}#Faculty"])
    for bad in (None, "Instructor", {"0": "Instructor"}, [None, 3, ["Instructor"]], []):
        assert roles.is_staff(bad) is False
