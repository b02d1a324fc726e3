"""What every command group shares: turning service errors into one clear CLI error line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import click

from ..cocalc import CoCalcError
from ..errors import GatewayError


def fail(exc: Exception):
    """Stop the command with the error's public message (never a traceback)."""
    raise click.ClickException(getattr(exc, "message", str(exc)))


@contextmanager
def clear_errors() -> Iterator[None]:
    """Turn the gateway's and CoCalc's errors raised inside the block into a CLI error."""
    try:
        yield
    except (GatewayError, CoCalcError) as exc:
        fail(exc)


def echo_json(value) -> None:
    click.echo(json.dumps(value, indent=2))
