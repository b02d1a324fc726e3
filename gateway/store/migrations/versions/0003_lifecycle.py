"""top-level launches, tombstones for removed hosts and users, durable revocations

Revision ID: 0003
Revises: 0002
"""

import ipaddress
import re

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        "launches",
        sa.Column("top_level", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("host_users", sa.Column("deprovisioned_at", sa.DateTime(), nullable=True))
    op.add_column("hosts", sa.Column("removed_at", sa.DateTime(), nullable=True))
    op.create_table(
        "revocations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_encrypted", sa.Text(), nullable=False),
        sa.Column("next_try_at", sa.DateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_revocations_next_try_at", "revocations", ["next_try_at"])
    _normalize_origins()


#: The origin rule as it stood at this revision (``hosts.normalize_origin`` of 0003), frozen
#: here: a migration never imports live code, so replaying it applies this rule forever.
_ORIGIN = re.compile(r"(https?)://(\[[0-9A-Fa-f:.]+\]|[^/:?#\[\]@\s]+)(?::([0-9]{1,5}))?/?")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin_host(text):
    if text.startswith("["):
        try:
            return f"[{ipaddress.IPv6Address(text[1:-1]).compressed}]"
        except ValueError:
            return None
    try:
        ascii_host = text.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return None
    labels = ascii_host.split(".")
    if len(ascii_host) > 253 or not all(_LABEL.match(label) for label in labels):
        return None
    return ascii_host


def _normalized(origin):
    """``scheme://host[:port]`` as browsers send it, or None for anything else."""
    match = _ORIGIN.fullmatch(origin.strip()) if isinstance(origin, str) else None
    if match is None:
        return None
    scheme, raw_host, raw_port = match.groups()
    host = _origin_host(raw_host)
    port = int(raw_port) if raw_port else None
    if host is None or (port is not None and not 0 < port < 65536):
        return None
    if port is None or port == _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def _normalize_origins():
    """Store every host origin as browsers send it; drop any that is not an origin at all
    (such as ``https://*.x``, which CSP would have widened)."""
    hosts = sa.table("hosts", sa.column("id", sa.String), sa.column("origins", sa.JSON))
    bind = op.get_bind()
    for host_id, origins in bind.execute(sa.select(hosts.c.id, hosts.c.origins)).all():
        kept = [o for o in map(_normalized, origins or []) if o is not None]
        if kept != origins:
            bind.execute(hosts.update().where(hosts.c.id == host_id).values(origins=kept))


def downgrade():
    raise NotImplementedError("the gateway's migrations go forward only")
