"""A grader chosen in the Deep Linking picker: checked when the teacher picks, kept as an
offer under a random id that the link's custom ``autograde`` carries, and attached at the
link's first launch in its course (the LMS names the link only after the picker's
response). A value made up in the LMS, a link copied into another course, and a grader a
teacher removed attach nothing."""

from __future__ import annotations

import json
from html import unescape

import pytest
import requests
from sqlalchemy import select

from gateway import hosts
from gateway.store.autograde_tables import LtiAutogradeOffer
from gateway.store.models import Host
from gateway.ways_in.lti.autograding import graders
from tests.ways_in.lti.test_autograde import (  # noqa: F401 (the session's otter assignment)
    CORRECT,
    assignment,
    graded_scores,
    hand_in,
    notebook,
)
from tests.ways_in.lti.test_content import picker, submit

pytestmark = pytest.mark.usefixtures("assignment")

GRADER = {"grader": "otter", "grader_path": "grader/autograder.zip", "time_limit": "30"}


@pytest.fixture
def templated(lti, assignment):  # noqa: F811
    """The host's course template holds the learners' notebook and the grader's archive."""
    lti.sim.configure(real_exec=True)
    template = lti.gw.cocalc.create_project(title="Course template", start=True).project_id
    lti.gw.cocalc.write_text_file_to_project(template, "hw/hw1.ipynb", assignment["student"])
    requests.put(
        f"{lti.sim.url}/_sim/projects/{template}/files/grader/autograder.zip",
        data=assignment["archive"],
        timeout=10,
    ).raise_for_status()
    with lti.gw.db.begin() as session:
        host = session.get(Host, lti.host.id)
        host.template_project_id, host.template_paths = template, ["hw/hw1.ipynb"]
    hosts.forget_cached(lti.gw, lti.host.id)
    return lti


def link_launch(lti, agent, *, context="course-1", user="stu-1"):
    """A learner opens the link the picker's response made (its custom parameters are the
    content item's, as the LMS sends them)."""
    page = agent.open(
        lti.course_launch(context, user=user, item="0", resource="dl-link-1", ags="items")
    )
    assert page.status_code == 200, page.text[:300]
    return page


def graders_of(lti) -> list[dict]:
    return graders.all_graders(lti.gw)


def test_a_grader_picked_with_a_notebook_grades_its_hand_ins(templated, agent, assignment):  # noqa: F811
    lti = templated
    page = picker(lti, agent, multiple="0")
    assert 'id="grading"' in page.text and 'id="grader-path"' in page.text
    done = submit(agent, page, {"path": "hw/hw1.ipynb", **GRADER})
    assert done.status_code == 200, done.text
    [item] = lti.lms.deep_link_items
    assert item["custom"]["path"] == "hw/hw1.ipynb" and len(item["custom"]["autograde"]) >= 32
    assert graders_of(lti) == []  # the LMS has not named the link yet
    # The link's first launch attaches the grader; a learner's hand-in is graded.
    hand_in(lti, agent, notebook(assignment, CORRECT), item="0", resource="dl-link-1")
    [grader] = graders_of(lti)
    assert (grader["resource_link_id"], grader["kind"], grader["time_limit_s"]) == (
        "dl-link-1",
        "otter",
        30,
    )
    assert grader["source"].endswith(":grader/autograder.zip")
    [posted] = graded_scores(lti)
    assert (posted["scoreGiven"], posted["scoreMaximum"]) == (2.0, 2.0)


def test_attack_a_made_up_offer_or_a_copied_link_attaches_nothing(templated, agent):
    """A teacher's edit of the custom parameter in the LMS names no offer; the same link
    copied into another course attaches nothing there; a grader removed stays removed."""
    lti = templated
    submit(agent, picker(lti, agent, multiple="0"), {"path": "hw/hw1.ipynb", **GRADER})
    [item] = lti.lms.deep_link_items
    offer_id = item["custom"]["autograde"]
    item["custom"]["autograde"] = "made-up-" + offer_id[8:]
    link_launch(lti, agent)
    assert graders_of(lti) == []
    item["custom"]["autograde"] = offer_id
    link_launch(lti, agent, context="course-2")  # a course copy: another context
    assert graders_of(lti) == []
    with lti.gw.db.read() as session:
        assert session.scalars(select(LtiAutogradeOffer.applied_at)).one() is None
    link_launch(lti, agent)
    assert [g["course_id"] for g in graders_of(lti)] == ["course-1"]
    removed = lti.app.test_cli_runner().invoke(
        args=["lti", "autograde", "remove", "--platform", lti.platform.id, "--context",
              "course-1", "--resource-link", "dl-link-1"]
    )  # fmt: skip
    assert removed.exit_code == 0, removed.output
    link_launch(lti, agent, user="stu-2")
    assert graders_of(lti) == []


@pytest.mark.parametrize(
    ("fields", "field", "says"),
    [
        ({**GRADER, "grader_path": "grader/none.zip"}, "grader-path", "is not in that project"),
        ({**GRADER, "grader_path": ""}, "grader-path", "name the grader"),
        ({**GRADER, "grader_path": "grader/autograder.ipynb"}, "grader-path", "ends in .zip"),
        ({**GRADER, "time_limit": "soon"}, "time-limit", "time limit is 10 to 600"),
        ({**GRADER, "grader": "shell"}, "grader", "must be one of"),
        ({**GRADER, "path": [], "new_path": "mine.ipynb"}, "grader", "one notebook of the"),
    ],
)
def test_a_grader_the_picker_cannot_take_is_said_next_to_its_field(
    templated, agent, fields, field, says
):
    """Refused before the picker is used up: the same picker shows what was wrong, with
    the field marked, and takes a good choice after."""
    lti = templated
    page = picker(lti, agent, multiple="0")
    refused = submit(agent, page, {"path": "hw/hw1.ipynb", **fields})
    assert refused.status_code == 400, refused.text[:300]
    assert says in unescape(refused.text) and 'role="alert"' in refused.text
    marked = refused.text.split(f'id="{field}"', 1)[1].split(">", 1)[0]
    assert 'aria-invalid="true"' in marked
    assert lti.lms.deep_link_items == []
    done = submit(agent, refused, {"path": "hw/hw1.ipynb", **GRADER})
    assert done.status_code == 200, done.text[:300]
    assert "autograde" in lti.lms.deep_link_items[0]["custom"]


def test_several_notebooks_with_one_grader_are_refused(templated, agent):
    lti = templated
    with lti.gw.db.begin() as session:
        lti_host = session.get(Host, lti.host.id)
        lti_host.template_paths = ["hw/hw1.ipynb", "grader/autograder.zip"]
    hosts.forget_cached(lti.gw, lti.host.id)
    page = picker(lti, agent)
    refused = submit(agent, page, {"path": ["hw/hw1.ipynb", "grader/autograder.zip"], **GRADER})
    assert refused.status_code == 400 and "one notebook of the catalogue" in refused.text


def test_no_grader_is_offered_without_a_course_template(lti, agent):
    """A host without a template project has nowhere for the grader's file."""
    with lti.gw.db.begin() as session:
        session.get(Host, lti.host.id).template_paths = ["a.ipynb"]
    hosts.forget_cached(lti.gw, lti.host.id)
    page = picker(lti, agent, multiple="0")
    assert 'id="grading"' not in page.text
    refused = submit(agent, page, {"path": "a.ipynb", **GRADER})
    assert refused.status_code == 400 and "cannot be chosen here" in refused.text
    assert json.dumps(lti.lms.deep_link_items) == "[]"


def test_attack_a_grader_the_template_would_copy_to_every_learner_is_refused(templated, agent):
    """Where the host copies its whole template (or a folder holding the grader's file)
    into every learner's project, the learners would get the hidden tests: the picker and
    the CLI refuse such a file."""
    lti = templated
    for copied in ([], ["hw/hw1.ipynb", "grader"]):
        with lti.gw.db.begin() as session:
            session.get(Host, lti.host.id).template_paths = copied
        hosts.forget_cached(lti.gw, lti.host.id)
        page = picker(lti, agent, multiple="0")
        refused = submit(agent, page, {"path": "hw/hw1.ipynb", **GRADER})
        assert refused.status_code == 400 and "every learner gets a copy" in unescape(refused.text)
        template = hosts.get(lti.gw, lti.host.id).template_project_id
        by_cli = lti.app.test_cli_runner().invoke(
            args=["lti", "autograde", "set", "--platform", lti.platform.id, "--context",
                  "course-1", "--resource-link", "link-1",
                  "--from", f"{template}:grader/autograder.zip"]
        )  # fmt: skip
        assert by_cli.exit_code == 1 and "every learner gets a copy" in by_cli.output
    assert lti.lms.deep_link_items == [] and graders_of(lti) == []
