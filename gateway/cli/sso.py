"""``cocalc-gateway sso``: the OpenID Providers that sign a host's users in."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from ..ways_in.sso import providers as service
from ..web.current import gateway
from ..web.urls import public_url
from .common import clear_errors, echo_json


@click.group("sso")
def sso():
    """Single sign-on with OpenID Connect providers."""


@sso.command("add")
@click.option("--host", "host_id", required=True, help="The host whose users sign in.")
@click.option("--issuer", required=True, help="The provider's issuer URL (discovery).")
@click.option("--client-id", required=True, help="The client id the provider issued.")
@click.option(
    "--client-secret",
    required=True,
    help="The client secret (stored encrypted). Pass '-' to read it from standard input.",
)
@click.option("--scope", default=service.DEFAULT_SCOPE, show_default=True)
@with_appcontext
def sso_add(host_id, issuer, client_id, client_secret, scope):
    """Add a provider (read from its discovery document); prints it as JSON."""
    if client_secret == "-":  # noqa: S105 (not a password: "read it from stdin")
        client_secret = click.get_text_stream("stdin").readline().strip()
    with clear_errors():
        provider = service.add(
            gateway(),
            host_id,
            issuer=issuer,
            client_id=client_id,
            client_secret=client_secret,
            scope=scope,
        )
    echo_json(
        {
            **service.describe(provider),
            "redirect_uri": public_url("sso.callback"),
            "post_logout_redirect_uri": public_url("sso.signed_out"),
            "login_url": public_url("sso.login", host_id=host_id),
        }
    )


@sso.command("list")
@with_appcontext
def sso_list():
    """List providers as JSON (never their secrets)."""
    echo_json([service.describe(p) for p in service.all_providers(gateway())])


@sso.command("remove")
@click.argument("provider_id")
@with_appcontext
def sso_remove(provider_id):
    """Remove a provider: its users stay, and sign in again once it is back."""
    with clear_errors():
        service.remove(gateway(), provider_id)
    echo_json({"removed": provider_id})
