"""``cocalc-gateway lti``: LMS platforms, the tool's keys, roster sync, registration links."""

from __future__ import annotations

import sys
from datetime import timedelta

import click
from flask.cli import with_appcontext

from ..ways_in.lti import grade_files, registration, roster, tool_keys
from ..ways_in.lti import platforms as service
from ..ways_in.lti.views import tool_urls
from ..web.current import gateway
from ..web.urls import public_url
from .autograde import autograde_group, grades_rerun
from .common import clear_errors, echo_json


@click.group("lti")
def lti():
    """LTI 1.3: the LMS platforms that launch notebooks, and the tool's keys."""


@lti.group("platforms")
def platforms():
    """Register, list and remove LMS platforms."""


@platforms.command("add")
@click.option("--host", "host_id", required=True, help="The host whose users the LMS launches.")
@click.option("--issuer", required=True, help="The platform's issuer (iss).")
@click.option("--client-id", required=True, help="The client id the LMS gave the tool.")
@click.option("--deployment-id", "deployment_ids", multiple=True, required=True, help="May repeat.")
@click.option("--login-url", required=True, help="The platform's OIDC authorization URL.")
@click.option("--token-url", required=True, help="The platform's OAuth 2 token URL.")
@click.option("--jwks-url", required=True, help="The platform's public key set URL.")
@with_appcontext
def platforms_add(host_id, issuer, client_id, deployment_ids, login_url, token_url, jwks_url):
    """Register a platform; prints it, with the URLs to enter in the LMS, as JSON."""
    with clear_errors():
        platform = service.add(
            gateway(),
            host_id,
            issuer=issuer,
            client_id=client_id,
            deployment_ids=list(deployment_ids),
            login_url=login_url,
            token_url=token_url,
            jwks_url=jwks_url,
        )
    echo_json({**service.describe(platform), "tool": tool_urls().as_dict()})


@platforms.command("add-deployment")
@click.argument("platform_id")
@click.argument("deployment_id")
@with_appcontext
def platforms_add_deployment(platform_id, deployment_id):
    """Allow launches from one more deployment of a registered platform."""
    with clear_errors():
        echo_json(service.describe(service.add_deployment(gateway(), platform_id, deployment_id)))


@platforms.command("list")
@with_appcontext
def platforms_list():
    """List registered platforms as JSON."""
    echo_json([service.describe(p) for p in service.all_platforms(gateway())])


@platforms.command("remove")
@click.argument("platform_id")
@with_appcontext
def platforms_remove(platform_id):
    """Forget a platform: its launches stop; its users and their projects stay."""
    with clear_errors():
        service.remove(gateway(), platform_id)
    echo_json({"removed": platform_id})


@platforms.command("register-url")
@click.option("--host", "host_id", required=True, help="The host the LMS will launch for.")
@click.option(
    "--hours", default=2, show_default=True, type=click.IntRange(1, 48), help="How long it works."
)
@with_appcontext
def platforms_register_url(host_id, hours):
    """Print a one-time LTI Dynamic Registration URL to paste into the LMS."""
    with clear_errors():
        code = registration.new_code(gateway(), host_id, timedelta(hours=hours))
    echo_json({"url": public_url("lti.register", code=code), "expires_in_hours": hours})


@lti.group("keys")
def keys():
    """The tool's signing keys (published at /lti/jwks)."""


@keys.command("list")
@with_appcontext
def keys_list():
    """List the tool's keys, newest (the signing one) first."""
    echo_json(tool_keys.describe_all(gateway()))


@keys.command("rotate")
@with_appcontext
def keys_rotate():
    """Add a new key that signs from now on; the old ones stay published until removed."""
    kid = tool_keys.rotate(gateway())
    echo_json({"kid": kid, "keys": tool_keys.describe_all(gateway())})


# A kid is a base64url thumbprint and may begin with "-": taken as the argument, not an option.
@keys.command("remove", context_settings={"ignore_unknown_options": True})
@click.argument("kid")
@with_appcontext
def keys_remove(kid):
    """Stop publishing an old key (once nothing signed with it is still in use)."""
    with clear_errors():
        tool_keys.remove(gateway(), kid)
    echo_json({"removed": kid})


@lti.group("roster")
def roster_group():
    """Names and Role Provisioning Services."""


@roster_group.command("sync")
@click.option("--platform", "platform_id", required=True, help="The platform id (plat_...).")
@click.option("--context", "context_id", required=True, help="The LMS's course (context) id.")
@with_appcontext
def roster_sync(platform_id, context_id):
    """Provision every active member of a course now; prints a JSON summary."""
    bar = None

    def on_total(total):
        nonlocal bar
        bar = click.progressbar(length=total, label="Provisioning", file=sys.stderr)
        bar.__enter__()

    with clear_errors():
        try:
            summary = roster.sync(
                gateway(),
                platform_id,
                context_id,
                on_total=on_total,
                progress=lambda n: bar.update(n),
            )
        finally:
            if bar is not None:
                bar.__exit__(None, None, None)
    echo_json(summary.as_dict())
    if summary.failed:
        raise SystemExit(1)


@lti.group("grades")
def grades_group():
    """Assignment and Grade Services: grades from CoCalc to the LMS's gradebook."""


@grades_group.command("push")
@click.option("--platform", "platform_id", required=True, help="The platform id (plat_...).")
@click.option("--context", "context_id", required=True, help="The LMS's course (context) id.")
@click.option(
    "--file",
    "grades_file",
    required=True,
    type=click.File("r", encoding="utf-8-sig"),
    help="CSV: user_id (or student_id) or email, score, [max_score], [comment]; - for stdin.",
)
@click.option("--lineitem", help="The column's line item URL (default: the course's one).")
@with_appcontext
def grades_push(platform_id, context_id, grades_file, lineitem):
    """Post a column of grades (FullyGraded); a grade posted before is left as it is.
    Prints a JSON report, a line per row; exits 1 if any row failed."""
    try:
        text = grades_file.read()
    except UnicodeDecodeError:
        raise click.BadParameter("the file is not UTF-8 text", param_hint="--file") from None
    with clear_errors():
        summary = grade_files.push(gateway(), platform_id, context_id, text, lineitem=lineitem)
    echo_json(summary.as_dict())
    if summary.failed:
        raise SystemExit(1)


lti.add_command(autograde_group)
grades_group.add_command(grades_rerun)
