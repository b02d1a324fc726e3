"""``cocalc-gateway saml``: the SAML identity providers that sign a host's users in, and the
service provider's keys."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from ..ways_in.saml import idps as service
from ..ways_in.saml import sp, sp_keys
from ..web.current import gateway
from ..web.urls import public_url
from .common import clear_errors, echo_json


@click.group("saml")
def saml():
    """Single sign-on with SAML 2.0 identity providers (Shibboleth, Entra ID, Okta)."""


def _read_pem(path: str | None) -> str | None:
    if path is None:
        return None
    try:
        return Path(path).read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"cannot read {path}: {exc.strerror or exc}") from None


@saml.command("add")
@click.option("--host", "host_id", required=True, help="The host whose users sign in.")
@click.option("--metadata-url", help="The IdP's metadata URL (refreshed in the background).")
@click.option("--metadata-file", type=click.Path(dir_okay=False), help="A metadata file.")
@click.option("--mdq", "mdq_base", help="A federation's MDQ service (its base URL).")
@click.option(
    "--mdq-cert",
    type=click.Path(dir_okay=False),
    help="The federation's signing certificate (PEM file) that MDQ answers must verify against.",
)
@click.option(
    "--metadata-cert",
    type=click.Path(dir_okay=False),
    help="A certificate (PEM file) the metadata URL's or file's document must be signed with.",
)
@click.option("--entity-id", help="The IdP's entity ID (needed with --mdq, or an aggregate).")
@click.option(
    "--allow-unsolicited",
    is_flag=True,
    help="Accept sign-ins started at the IdP (no login-CSRF binding for them).",
)
@click.option(
    "--allow-unencrypted",
    is_flag=True,
    help="Accept assertions the IdP does not encrypt (Entra ID and Okta do not by default).",
)
@with_appcontext
def saml_add(
    host_id,
    metadata_url,
    metadata_file,
    mdq_base,
    mdq_cert,
    metadata_cert,
    entity_id,
    allow_unsolicited,
    allow_unencrypted,
):
    """Add an identity provider from its metadata; prints it, and this SP's URLs, as JSON."""
    chosen = [x for x in (metadata_url, metadata_file, mdq_base) if x]
    if len(chosen) != 1:
        raise click.UsageError("give one of --metadata-url, --metadata-file or --mdq")
    if mdq_base and not (mdq_cert and entity_id):
        raise click.UsageError("--mdq needs --mdq-cert and --entity-id")
    data = None
    if metadata_file:
        try:
            data = Path(metadata_file).read_bytes()
        except OSError as exc:
            raise click.ClickException(f"cannot read {metadata_file}: {exc.strerror}") from None
    source = "mdq" if mdq_base else "file" if metadata_file else "url"
    gw = gateway()
    with clear_errors():
        idp = service.add(
            gw,
            host_id,
            source=source,
            location=mdq_base or metadata_url,
            data=data,
            entity_id=entity_id,
            signer_pem=_read_pem(mdq_cert if mdq_base else metadata_cert),
            allow_unsolicited=allow_unsolicited,
            allow_unencrypted=allow_unencrypted,
        )
    urls = sp.endpoints(gw, host_id)
    echo_json(
        {
            **service.describe(idp),
            "sp_entity_id": urls.entity_id,
            "sp_metadata_url": public_url("saml.metadata", host_id=host_id),
            "acs_url": urls.acs,
            "slo_url": urls.slo,
            "login_url": public_url("saml.login", host_id=host_id),
        }
    )


@saml.command("list")
@with_appcontext
def saml_list():
    """List identity providers as JSON."""
    echo_json([service.describe(i) for i in service.all_idps(gateway())])


@saml.command("remove")
@click.argument("idp_id")
@with_appcontext
def saml_remove(idp_id):
    """Remove an identity provider: its sessions end; its users stay."""
    with clear_errors():
        service.remove(gateway(), idp_id)
    echo_json({"removed": idp_id})


@saml.command("refresh")
@click.argument("idp_id")
@with_appcontext
def saml_refresh(idp_id):
    """Fetch an identity provider's metadata now (housekeeping does it when it is due)."""
    gw = gateway()
    with clear_errors():
        idp = service.refresh(gw, service.get(gw, idp_id))
    echo_json(service.describe(idp))
    if idp.refresh_error:
        raise SystemExit(1)


@saml.group("keys")
def saml_keys():
    """The service provider's signing and encryption keys."""


@saml_keys.command("list")
@with_appcontext
def saml_keys_list():
    echo_json(sp_keys.describe_all(gateway()))


@saml_keys.command("rotate")
@click.option(
    "--now",
    "at_once",
    is_flag=True,
    help="Sign with it at once (a leaked key): IdPs that verify requests refuse them until "
    "they fetch the new metadata.",
)
@with_appcontext
def saml_keys_rotate(at_once):
    """Add a key: published now, signing a day later (the older ones stay published and
    decrypt until `saml keys remove`)."""
    kid = sp_keys.rotate(gateway(), at_once=at_once)
    echo_json(next(k for k in sp_keys.describe_all(gateway()) if k["kid"] == kid))


@saml_keys.command("remove")
@click.argument("kid")
@with_appcontext
def saml_keys_remove(kid):
    """Stop publishing (and decrypting with) an older key."""
    with clear_errors():
        sp_keys.remove(gateway(), kid)
    echo_json({"removed": kid})
