"""One-time URL keys: random, and stored only as digests."""

from __future__ import annotations

import hashlib
import secrets


def new_key() -> str:
    return secrets.token_urlsafe(32)


def digest(key: str) -> str:
    # Only the digest is stored: a copy of the database does not open anyone's embed page.
    return hashlib.sha256(key.encode()).hexdigest()
