"""``cocalc-gateway keys``: the keys that encrypt stored secrets."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from ..store.rotation import rotate_all
from ..support.crypto import SecretBox
from ..web.current import gateway
from .common import echo_json


@click.group()
def keys():
    """Manage the keys that encrypt stored secrets."""


@keys.command("generate")
def keys_generate():
    """Print a new encryption key for GATEWAY_ENCRYPTION_KEYS."""
    click.echo(SecretBox.generate_key())


@keys.command("rotate")
@with_appcontext
def keys_rotate():
    """Re-encrypt every stored secret under the first key of GATEWAY_ENCRYPTION_KEYS."""
    gw = gateway()
    echo_json(rotate_all(gw.db, gw.box))
