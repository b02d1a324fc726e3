"""The user's CoCalc account: created once, at an address only the gateway knows.

Every account is created under an address the gateway makes up (``gw-<128 random bits>@``
``GATEWAY_EMAIL_DOMAIN``) and writes down before it asks CoCalc. So when a reply is lost and
the retry hears "e-mail taken", the account found under that address can only be the one
the gateway created: nobody else knew the address. No password check is needed as proof
(with a site admin's key CoCalc never checks one), and an account that someone registered
under the host's own address for the user is never touched. The host's address stays in
the gateway as profile data.
"""

from __future__ import annotations

import logging
import re
import secrets

from sqlalchemy import select, update

from ..cocalc import AccountCreationFailed, CoCalcAPIError, CoCalcProtocolError
from ..context import Gateway
from ..store.locks import db_lock
from ..store.models import HostUser
from . import first_projects
from .steps import counted

log = logging.getLogger(__name__)

GATEWAY_ADDRESS = re.compile(r"^gw-[0-9a-f]{32}@")


def new_address(gw: Gateway) -> str:
    """Make up the unguessable address a new CoCalc account is created under."""
    return f"gw-{secrets.token_hex(16)}@{gw.settings['GATEWAY_EMAIL_DOMAIN']}"


def is_gateway_address(address: str) -> bool:
    """Tell whether an address was made up by the gateway (rows from before 0002 are not)."""
    return bool(GATEWAY_ADDRESS.match(address or ""))


def new_password() -> str:
    # Long and random: passes both dialects' length rules and the strength check.
    return secrets.token_urlsafe(32)


@counted("account")
def ensure_account(gw: Gateway, user_id: int, *, made: list | None = None) -> str:
    """Return the user's account id, creating the account (exactly once) if needed.

    ``made`` gets "account" appended when this call created it.
    """
    with db_lock(gw.db, f"account:{user_id}") as db:
        user = db.fetch(select(HostUser).where(HostUser.id == user_id))
        if user.account_id:
            return user.account_id
        address = user.cocalc_email
        if not is_gateway_address(address):
            # A row from before gateway-assigned addresses whose account was never confirmed:
            # its address may be the host's, which anyone could have registered at CoCalc.
            address = new_address(gw)
            db.write((update(HostUser).where(HostUser.id == user_id), {"cocalc_email": address}))
        try:
            account_id = gw.cocalc.create_account(
                first_name=user.first_name,
                last_name=user.last_name,
                email=address,
                password=gw.box.decrypt(user.password_encrypted),
            ).account_id
        except AccountCreationFailed as exc:
            if not exc.email_taken:
                raise _refusal(exc) from None
            account_id = _recover(gw, user_id, address)
        db.write((update(HostUser).where(HostUser.id == user_id), {"account_id": account_id}))
        if made is not None:
            made.append("account")
    first_projects.stop_soon(gw, user_id, account_id)
    return account_id


def _recover(gw: Gateway, user_id: int, address: str) -> str:
    """The address has an account: it is ours (only we knew it), created by a lost call."""
    account_id = gw.cocalc.find_account_by_email(address)
    if account_id is None:
        raise CoCalcProtocolError(
            "CoCalc says the account's address is taken but cannot find it", endpoint="recover"
        )
    log.info("recovered the account of user %s after a lost reply", user_id)
    return account_id


def _refusal(exc: AccountCreationFailed) -> Exception:
    if "token" in exc.reason or "registrationToken" in exc.reason:
        return CoCalcAPIError(
            "CoCalc requires a registration token (set COCALC_REGISTRATION_TOKEN)",
            endpoint=exc.endpoint,
        )
    return exc  # rate limits, a key that may not create accounts: a CoCalc failure
