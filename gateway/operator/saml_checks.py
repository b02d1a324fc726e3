"""Doctor's checks of SAML: each identity provider (its metadata still valid and fresh, its
signing certificate, its clock) and the gateway's own service-provider keys.

One finding per IdP, named ``saml_idp:<entity ID>``, so that an operator sees which one;
a host without SAML adds nothing. An IdP whose metadata has expired fails (its users can
no longer sign in); the rest warn ahead of time, far enough for a federation's operator to
answer an e-mail.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ..context import Gateway
from ..ways_in.saml import idps, sp, sp_keys
from ..ways_in.saml.metadata import IdpMetadata
from .findings import FAIL, OK, WARN, Finding

#: Warn this long before metadata or a certificate expires.
METADATA_WARNING = timedelta(days=3)
CERTIFICATE_WARNING = timedelta(days=30)
#: An SP signing key older than this is due for a rotation (a federation's usual advice).
KEY_AGE_WARNING = timedelta(days=3 * 365)
#: A refresh this late means housekeeping is not running (or the source is down).
REFRESH_LATE = timedelta(days=1)


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _problems(idp, meta: IdpMetadata | None, now: datetime) -> tuple[list, list, dict]:
    """(failures, warnings, facts) of one IdP."""
    failures, warnings = [], []
    valid_until = _aware(idp.valid_until)
    expires = meta.certificate_expiry() if meta else None
    facts = {
        "host": idp.host_id,
        "entity_id": idp.entity_id,
        "source": idp.source,
        "valid_until": valid_until.isoformat() if valid_until else None,
        "fetched_at": _aware(idp.fetched_at).isoformat() if idp.fetched_at else None,
        "signing_certificate_expires": expires.isoformat() if expires else None,
        "clock_offset_s": idp.clock_offset_s,
        "refresh_error": idp.refresh_error,
    }
    if meta is None:
        failures.append("its stored metadata cannot be read; run `saml refresh`")
    if valid_until is not None and valid_until <= now:
        failures.append("its metadata has expired: nobody can sign in there")
    elif valid_until is not None and valid_until - now < METADATA_WARNING:
        warnings.append(f"its metadata expires at {valid_until:%Y-%m-%d %H:%M} UTC")
    if idp.refresh_error:
        warnings.append(f"the last refresh failed ({idp.refresh_error})")
    late = _aware(idp.refresh_after)
    if late is not None and now - late > REFRESH_LATE:
        warnings.append("its metadata is overdue for a refresh: is housekeeping running?")
    if expires is not None and expires <= now:
        failures.append("its signing certificate has expired")
    elif expires is not None and expires - now < CERTIFICATE_WARNING:
        warnings.append(f"its signing certificate expires on {expires:%Y-%m-%d}")
    offset = idp.clock_offset_s
    if offset is not None and abs(offset) > sp.CLOCK_SKEW_S:
        failures.append(f"its clock is {offset:+.0f} s from ours (at most {sp.CLOCK_SKEW_S} s)")
    elif offset is not None and abs(offset) > sp.CLOCK_SKEW_S / 3:
        warnings.append(f"its clock is {offset:+.0f} s from ours")
    return failures, warnings, facts


def identity_providers(gw: Gateway) -> list[Finding]:
    now = datetime.now(UTC)
    found = []
    for idp in idps.all_idps(gw):
        try:
            meta = idps.metadata_of(idp)
        except Exception:  # stored metadata that no longer reads is itself the finding
            meta = None
        failures, warnings, facts = _problems(idp, meta, now)
        name = f"saml_idp:{idp.entity_id}"
        if failures:
            status, detail = FAIL, "; ".join(failures + warnings)
            action = "fix the identity provider's metadata source, then `saml refresh`"
        elif warnings:
            status, detail, action = WARN, "; ".join(warnings), "ask the IdP's operator"
        else:
            status, action = OK, ""
            detail = f"metadata valid, signing certificate until {facts['signing_certificate_expires'] or '?'}"  # noqa: E501
        found.append(Finding(name, status, detail, action, facts=facts))
    return found


def service_provider_keys(gw: Gateway) -> Finding | None:
    """The SP's keys (only where some host uses SAML). Their certificates outlast them (a
    key holder in metadata, not a trust anchor): what ages is the key itself."""
    if not idps.all_idps(gw):
        return None
    keys = sp_keys.describe_all(gw) or [None]
    if keys[0] is None:  # made on first use: the first sign-in or metadata request
        return Finding("saml_sp_keys", OK, "no key yet: the first SAML request makes one")
    signing = next(k for k in keys if k["signing"])
    made = datetime.fromisoformat(signing["created_at"])
    age = datetime.now(UTC) - made
    pending = [k for k in keys if datetime.fromisoformat(k["signs_from"]) > datetime.now(UTC)]
    facts = {
        "signing": signing["kid"],
        "created_at": signing["created_at"],
        "kept": len(keys),
        "pending": [{"kid": k["kid"], "signs_from": k["signs_from"]} for k in pending],
    }
    if age > KEY_AGE_WARNING:
        return Finding(
            "saml_sp_keys",
            WARN,
            f"the service provider's signing key is {age.days} days old",
            "run `saml keys rotate`, let the IdPs fetch the new metadata, then remove the old key",
            facts=facts,
        )
    detail = f"signing key {signing['kid'][:12]} ({age.days} days old), {len(keys)} kept"
    if pending:
        detail += f"; {pending[0]['kid'][:12]} signs from {pending[0]['signs_from'][:16]}"
    return Finding("saml_sp_keys", OK, detail, facts=facts)
