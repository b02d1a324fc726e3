"""LTI roles by the vocabulary: who is staff of a course, as one table.

The LIS v2 vocabularies that LTI 1.3 uses (Core, appendix A.2) name three kinds of role:

- **context roles** (``…/lis/v2/membership#Instructor``): what a person is in this course,
  and **context sub-roles** (``…/lis/v2/membership/Instructor#TeachingAssistant``), each a
  specialisation *of its principal role* (the part before ``#``);
- **institution roles** (``…/lis/v2/institution/person#Faculty``) and **system roles**
  (``…/lis/v2/system/person#Administrator``): what a person is elsewhere, which says
  nothing about this course.

Staff of a course (may read every learner's project, review hand-ins, grade, link
notebooks) are the principal context roles in ``STAFF_PRINCIPALS`` and the sub-roles *of*
those. The name after ``#`` of a sub-role never decides: ``membership/Learner#Instructor``
is a kind of learner. Mentors are never staff (a mentor's rights over particular learners
come with ``role_scope_mentor``, which grants nothing here). Institution and system roles
are never staff. Anything outside the vocabulary is nothing.

``Administrator`` is a context role of a course's administrators: Open edX sends it for
its course staff, and D2L Brightspace for course administrators, so it counts. LTI 1.1's
short names (``Instructor``) and URNs (``urn:lti:role:ims/lis/Instructor``), deprecated
but still sent by some platforms, are read with the same table.
"""

from __future__ import annotations

from dataclasses import dataclass

MEMBERSHIP = "http://purl.imsglobal.org/vocab/lis/v2/membership"
INSTITUTION = "http://purl.imsglobal.org/vocab/lis/v2/institution/person"
SYSTEM = "http://purl.imsglobal.org/vocab/lis/v2/system/person"
LTI_SYSTEM = "http://purl.imsglobal.org/vocab/lti/system/person"
LTI11_CONTEXT = "urn:lti:role:ims/lis/"
LTI11_INSTITUTION = "urn:lti:instrole:ims/lis/"
LTI11_SYSTEM = "urn:lti:sysrole:ims/lis/"

#: The context roles and their sub-roles (LTI 1.3 Core, A.2.3 and A.2.3.1).
CONTEXT_ROLES: dict[str, frozenset[str]] = {
    "Administrator": frozenset(
        {
            "Administrator",
            "Developer",
            "ExternalDeveloper",
            "ExternalSupport",
            "ExternalSystemAdministrator",
            "Support",
            "SystemAdministrator",
        }
    ),
    "ContentDeveloper": frozenset(
        {"ContentDeveloper", "ContentExpert", "ExternalContentExpert", "Librarian"}
    ),
    "Instructor": frozenset(
        {
            "ExternalInstructor",
            "Grader",
            "GuestInstructor",
            "Lecturer",
            "PrimaryInstructor",
            "SecondaryInstructor",
            "TeachingAssistant",
            "TeachingAssistantGroup",
            "TeachingAssistantOffering",
            "TeachingAssistantSection",
            "TeachingAssistantSectionAssociation",
            "TeachingAssistantTemplate",
        }
    ),
    "Learner": frozenset(
        {"ExternalLearner", "GuestLearner", "Instructor", "Learner", "NonCreditLearner"}
    ),
    "Manager": frozenset(
        {"AreaManager", "CourseCoordinator", "ExternalObserver", "Manager", "Observer"}
    ),
    "Member": frozenset({"Member"}),
    "Mentor": frozenset(
        {
            "Advisor",
            "Auditor",
            "ExternalAdvisor",
            "ExternalAuditor",
            "ExternalLearningFacilitator",
            "ExternalMentor",
            "ExternalReviewer",
            "ExternalTutor",
            "LearningFacilitator",
            "Mentor",
            "Reviewer",
            "Tutor",
        }
    ),
    "Officer": frozenset({"Chair", "Communications", "Secretary", "Treasurer", "Vice-Chair"}),
}
#: ``TeachingAssistant`` is no principal role of LIS v2, but platforms send
#: ``membership#TeachingAssistant`` (and LTI 1.1's short name) for a course's assistants.
EXTRA_PRINCIPALS = frozenset({"TeachingAssistant"})
#: Principal context roles whose holders, and whose sub-roles' holders, are staff.
STAFF_PRINCIPALS = frozenset(
    {"Administrator", "ContentDeveloper", "Instructor", "TeachingAssistant"}
)

#: Institution and system roles (A.2.1, A.2.2): known, and never staff of a course.
INSTITUTION_ROLES = frozenset(
    {
        "Administrator", "Faculty", "Guest", "None", "Other", "Staff", "Student", "Alumni",
        "Instructor", "Learner", "Member", "Mentor", "Observer", "ProspectiveStudent",
    }
)  # fmt: skip
SYSTEM_ROLES = frozenset(
    {"Administrator", "None", "AccountAdmin", "Creator", "SysAdmin", "SysSupport", "User"}
)


@dataclass(frozen=True)
class Role:
    """A role as the vocabulary reads it: its kind ("context", "institution", "system"),
    principal role, and sub-role (None for a principal role)."""

    kind: str
    principal: str
    sub: str | None = None


def parse(role) -> Role | None:
    """Read one role string; None for anything outside the vocabularies."""
    if not isinstance(role, str) or len(role) > 512:
        return None
    vocabulary, hash_sign, name = role.partition("#")
    if hash_sign:
        if vocabulary == MEMBERSHIP:
            return _context(name, None)
        if vocabulary.startswith(MEMBERSHIP + "/"):
            return _context(vocabulary.removeprefix(MEMBERSHIP + "/"), name)
        if vocabulary == INSTITUTION and name in INSTITUTION_ROLES:
            return Role("institution", name)
        if vocabulary in (SYSTEM, LTI_SYSTEM) and (name in SYSTEM_ROLES or name == "TestUser"):
            return Role("system", name)
        return None
    for prefix, kind, known in (
        (LTI11_INSTITUTION, "institution", INSTITUTION_ROLES),
        (LTI11_SYSTEM, "system", SYSTEM_ROLES),
    ):
        if role.startswith(prefix):
            name = role.removeprefix(prefix)
            return Role(kind, name) if name in known else None
    if role.startswith(LTI11_CONTEXT):  # urn:lti:role:ims/lis/Instructor[/PrimaryInstructor]
        principal, _, sub = role.removeprefix(LTI11_CONTEXT).partition("/")
        return _context(principal, sub or None)
    return _context(role, None)  # LTI 1.1's short names: "Instructor", "Learner"


def _context(principal: str, sub: str | None) -> Role | None:
    if principal in EXTRA_PRINCIPALS and sub is None:
        return Role("context", principal)
    subs = CONTEXT_ROLES.get(principal)
    if subs is None or (sub is not None and sub not in subs):
        return None
    return Role("context", principal, sub)


def role_is_staff(role) -> bool:
    """Whether one role makes its holder staff of the course (the table above)."""
    parsed = parse(role)
    return parsed is not None and parsed.kind == "context" and parsed.principal in STAFF_PRINCIPALS


def is_staff(roles) -> bool:
    """Whether a role list (a launch's ``roles`` claim, a roster member's ``roles``) makes
    its holder staff of the course: the one rule every part of the gateway asks."""
    return isinstance(roles, list) and any(role_is_staff(role) for role in roles)
