"""Re-encrypt stored secrets under the newest key, after an operator adds one.

Every encrypted column is here, so that once ``cocalc-gateway keys rotate`` has run the old
key can go: host secrets, CoCalc passwords and tokens (cached, of pages, to revoke), the
LTI tool's and the SAML service provider's private keys, SSO client secrets, and the id
tokens and SAML subjects kept for sign-out. Values
inside short-lived exchanges (a PKCE verifier, claims waiting for platform storage) are not
rewritten: they live minutes, so keep the old key ten minutes after rotating.
"""

from __future__ import annotations

from sqlalchemy import select

from ..support.crypto import SecretBox
from .database import Database
from .lti_tables import LtiToolKey
from .models import CachedToken, Host, HostUser, Launch, Revocation, SpareToken
from .saml_tables import SamlSpKey
from .sso_tables import SsoProvider, SsoSession

# Each encrypted column, by table.
ENCRYPTED = (
    (Host, "secret_encrypted"),
    (HostUser, "password_encrypted"),
    (CachedToken, "token_encrypted"),
    (SpareToken, "token_encrypted"),
    (Launch, "token_encrypted"),
    (Revocation, "token_encrypted"),
    (LtiToolKey, "private_key_encrypted"),
    (SsoProvider, "client_secret_encrypted"),
    (SsoSession, "id_token_encrypted"),
    (SsoSession, "saml_subject_encrypted"),
    (SamlSpKey, "private_key_encrypted"),
)


def rotate_all(db: Database, box: SecretBox, batch: int = 500) -> dict[str, int]:
    """Rotate every encrypted value, one table at a time; return counts per table."""
    counts = {}
    for model, column in ENCRYPTED:
        done = 0
        with db.begin() as session:
            for row in session.scalars(select(model).where(getattr(model, column).is_not(None))):
                setattr(row, column, box.rotate(getattr(row, column)))
                done += 1
                if done % batch == 0:
                    session.flush()
        counts[model.__tablename__] = done
    return counts
