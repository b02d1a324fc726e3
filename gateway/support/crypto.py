"""Encryption at rest for the secrets the gateway must be able to read back."""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ..config import ConfigError


def derive_key(secret: str) -> str:
    """Derive a Fernet key from GATEWAY_SECRET_KEY (used when no explicit keys are set)."""
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"cocalc-gateway at-rest")
    return base64.urlsafe_b64encode(raw.derive(secret.encode())).decode()


class SecretBox:
    """Encrypt with the first key; decrypt with any (so keys can be rotated)."""

    def __init__(self, keys: list[str]):
        try:
            self._fernet = MultiFernet([Fernet(k.strip().encode()) for k in keys])
        except (ValueError, TypeError):
            raise ConfigError(
                "GATEWAY_ENCRYPTION_KEYS must be comma-separated Fernet keys "
                "(make one with: cocalc-gateway keys generate)"
            ) from None

    @classmethod
    def from_settings(cls, settings: dict) -> SecretBox:
        keys = settings.get("GATEWAY_ENCRYPTION_KEYS")
        if keys:
            return cls([k for k in str(keys).split(",") if k.strip()])
        if settings.get("GATEWAY_SECRET_KEY") is None:  # a command that needs no secrets
            return LockedBox()
        return cls([derive_key(settings["GATEWAY_SECRET_KEY"])])

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._fernet.decrypt(ciphertext.encode()).decode()
        except InvalidToken:
            raise ConfigError(
                "a stored secret cannot be decrypted with GATEWAY_ENCRYPTION_KEYS "
                "(was a key removed before `cocalc-gateway keys rotate` ran?)"
            ) from None

    def rotate(self, ciphertext: str) -> str:
        """Re-encrypt under the newest key."""
        return self._fernet.rotate(ciphertext.encode()).decode()

    @staticmethod
    def generate_key() -> str:
        return Fernet.generate_key().decode()


class LockedBox(SecretBox):
    """The box of a command run without ``GATEWAY_SECRET_KEY``: any use says it is missing."""

    def __init__(self):
        pass

    def _refuse(self, *args):
        raise ConfigError("GATEWAY_SECRET_KEY is not set: this needs the gateway's secrets")

    encrypt = decrypt = rotate = _refuse
