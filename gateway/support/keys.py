"""One-time URL keys: random, and stored only as digests; proofs that only the gateway makes."""

from __future__ import annotations

import hashlib
import hmac
import secrets


def new_key() -> str:
    return secrets.token_urlsafe(32)


def digest(key: str) -> str:
    # Only the digest is stored: a copy of the database does not open anyone's embed page.
    return hashlib.sha256(key.encode()).hexdigest()


def proof(secret: str, purpose: str, *subject: str) -> str:
    """A value that only the gateway can make for ``subject`` (HMAC-SHA256 under a key of
    its own for ``purpose``): a page holds it in its form, and the gateway knows the next
    request came from that page, not from a URL someone typed or another site's form."""
    key = hashlib.sha256(b"cocalc-gateway proof\0" + purpose.encode() + b"\0" + secret.encode())
    message = "\0".join(subject).encode()
    return hmac.new(key.digest(), message, hashlib.sha256).hexdigest()[:43]


def proven(secret: str, given, purpose: str, *subject: str) -> bool:
    """Whether ``given`` is the proof for ``subject`` (compared in constant time)."""
    if not isinstance(given, str) or len(given) != 43:
        return False
    return hmac.compare_digest(given, proof(secret, purpose, *subject))
