"""``cocalc-gateway hosts``: the sites that hand their users to the gateway."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from .. import hosts as service
from ..context import known_dialect
from ..launches import sites
from ..web.current import gateway
from .common import clear_errors, echo_json


@click.group("hosts")
def hosts():
    """Manage hosts: the sites that hand their users to the gateway."""


@hosts.command("add")
@click.argument("name")
@click.option("--origin", "origins", multiple=True, help="A site allowed to frame the pages.")
@click.option("--template-project", help="Project to copy into every new user project.")
@click.option(
    "--template-path",
    "template_paths",
    multiple=True,
    help="A file or folder of the template project to copy (may repeat; default: all of it). "
    "These are also what an LMS's Deep Linking picker offers.",
)
@click.option(
    "--language",
    help="The pages' language when a launch names none (a tag: de, fr, pt-BR; "
    "default: the browser's).",
)
@with_appcontext
def hosts_add(name, origins, template_project, template_paths, language):
    """Add a host; prints its id and secret (shown only once) as JSON."""
    with clear_errors():
        host, secret = service.add(
            gateway(),
            name,
            list(origins),
            template_project_id=template_project,
            template_paths=list(template_paths),
            language=language,
        )
    settings = gateway().settings
    if settings["GATEWAY_PUBLIC_URL"] and settings["COCALC_URL"]:
        framed = sites.report(
            host.origins,
            settings["GATEWAY_PUBLIC_URL"],
            settings["COCALC_URL"],
            known_dialect(gateway()),
        )
    else:
        framed = "not known here: it needs GATEWAY_PUBLIC_URL and COCALC_URL (`doctor` says)"
    # Whether a framed sign-in works under each origin, said now rather than at the first
    # launch (by CoCalc's generation as far as it is known without asking CoCalc).
    echo_json({**service.describe(host), "secret": secret, "framed_sign_in": framed})


@hosts.command("list")
@click.option("--removed/--no-removed", default=False, help="Include removed hosts.")
@with_appcontext
def hosts_list(removed):
    """List hosts as JSON (without secrets)."""
    echo_json([service.describe(h) for h in service.all_hosts(gateway(), removed=removed)])


@hosts.command("rotate-secret")
@click.argument("host_id")
@with_appcontext
def hosts_rotate(host_id):
    """Give a host a new secret (the old one stops working at once)."""
    with clear_errors():
        secret = service.rotate_secret(gateway(), host_id)
    echo_json({"id": host_id, "secret": secret})


@hosts.command("remove")
@click.argument("host_id")
@click.option(
    "--purge",
    is_flag=True,
    help="Forget the host's users for good (their CoCalc accounts and projects stay).",
)
@with_appcontext
def hosts_remove(host_id, purge):
    """Stop a host: its tokens and pages stop working; ``hosts restore`` brings it back."""
    if purge:
        click.confirm("Forget every user of this host for good?", abort=True)
    with clear_errors():
        service.remove(gateway(), host_id, purge=purge)
    echo_json({"removed": host_id, "purged": purge})


@hosts.command("restore")
@click.argument("host_id")
@with_appcontext
def hosts_restore(host_id):
    """Bring a removed host back with its users; prints its new secret."""
    with clear_errors():
        secret = service.restore(gateway(), host_id)
    echo_json({"id": host_id, "secret": secret})
