"""``cocalc-gateway lti autograde``: the grader a course's link uses (``lti grades rerun``
grades a hand-in again)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from ..ways_in.lti.autograding import graders, runs
from ..web.current import gateway
from .common import clear_errors, echo_json

PLATFORM = click.option("--platform", "platform_id", required=True, help="The platform id.")
CONTEXT = click.option("--context", "context_id", required=True, help="The course (context) id.")
LINK = click.option(
    "--resource-link", "resource_link_id", required=True, help="The link's resource link id."
)


@click.group("autograde")
def autograde_group():
    """Grade each hand-in of a link with a grader (otter-grader, nbgrader) and post the score."""


@autograde_group.command("set")
@PLATFORM
@CONTEXT
@LINK
@click.option(
    "--from",
    "source",
    required=True,
    help="PROJECT_ID:PATH of the grader's file: otter assign's autograder .zip, or "
    "nbgrader's source notebook (.ipynb, with its hidden tests).",
)
@click.option("--kind", default="otter", show_default=True, type=click.Choice(tuple(graders.KINDS)))
@click.option("--time-limit", "time_limit_s", default=60, show_default=True, type=int)
@with_appcontext
def autograde_set(platform_id, context_id, resource_link_id, source, kind, time_limit_s):
    """Attach a grader to a link (replacing one it had); its file must exist now."""
    with clear_errors():
        graders.configure(
            gateway(),
            platform_id,
            context_id,
            resource_link_id,
            source=source,
            kind=kind,
            time_limit_s=time_limit_s,
        )
    echo_json(
        next(
            g
            for g in graders.all_graders(gateway())
            if (g["platform_id"], g["course_id"], g["resource_link_id"])
            == (platform_id, context_id, resource_link_id)
        )
    )


@autograde_group.command("list")
@with_appcontext
def autograde_list():
    """The graders attached to links."""
    echo_json(graders.all_graders(gateway()))


@autograde_group.command("remove")
@PLATFORM
@CONTEXT
@LINK
@with_appcontext
def autograde_remove(platform_id, context_id, resource_link_id):
    """Stop grading a link's hand-ins (scores posted stay in the gradebook)."""
    with clear_errors():
        graders.remove(gateway(), platform_id, context_id, resource_link_id)
    echo_json({"removed": True})


@click.command("rerun")
@click.option("--hand-in", "hand_in_id", required=True, type=int, help="The hand-in's id.")
@with_appcontext
def grades_rerun(hand_in_id):
    """Grade a hand-in again now (a failed run, or after the tests changed): only a changed
    score is posted."""
    with clear_errors():
        found = runs.rerun(gateway(), hand_in_id)
    echo_json(
        {
            "hand_in": hand_in_id,
            "status": found.status,
            "score": found.score,
            "maximum": found.maximum,
            "reason": found.detail,
        }
    )
