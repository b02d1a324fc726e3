"""The key sets of LMSs and identity providers: fetched when first needed, cached, and
fetched again for a new ``kid``.

An issuer rotates its keys by publishing a new one and signing with it, so a token whose
``kid`` is not in the cached set makes one fresh fetch; but at most one per
``LTI_KEY_SET_REFRESH_FLOOR`` seconds per URL, so a stream of tokens with made-up kids
cannot make the gateway hammer the issuer (or be slowed by it).
"""

from __future__ import annotations

import threading
import time

from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from ..context import Gateway
from ..errors import N_, BadGateway, Unauthorized

#: A cached key set is refetched after this long even when every kid is known.
MAX_AGE_S = 3600.0
_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_LOCK = threading.Lock()


def _cache(gw: Gateway) -> dict:
    return gw.memo.setdefault("key_sets", {})  # url -> (fetched_at, KeySet)


def _fetch(gw: Gateway, url: str) -> KeySet:
    document = gw.outbound.get_json(url, "key set")
    keys = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(keys, list):
        raise BadGateway(N_("the issuer's key set is not a JWKS document"))
    usable = [k for k in keys if isinstance(k, dict) and k.get("kty") == "RSA" and k.get("kid")]
    try:
        key_set = KeySet.import_key_set({"keys": usable})
    except (JoseError, ValueError, TypeError):
        raise BadGateway(N_("the issuer's key set holds a key that cannot be read")) from None
    _cache(gw)[url] = (time.monotonic(), key_set)
    return key_set


def _find(key_set: KeySet, kid: str):
    for key in key_set.keys:
        if key.kid == kid:
            return key
    return None


def _lock(url: str) -> threading.Lock:
    with _LOCKS_LOCK:
        return _LOCKS.setdefault(url, threading.Lock())


def key_for(gw: Gateway, url: str, kid) -> object:
    """The issuer's public key named ``kid``; Unauthorized when it has none by that name."""
    if not isinstance(kid, str) or not kid or len(kid) > 255:
        raise Unauthorized(N_("the id_token's header names no key (kid)"))
    floor = float(gw.settings["LTI_KEY_SET_REFRESH_FLOOR"])
    cached = _cache(gw).get(url)
    if cached and time.monotonic() - cached[0] < MAX_AGE_S:
        key = _find(cached[1], kid)
        if key is not None:
            return key
    with _lock(url):  # one fetch per URL at a time; the others then use its result
        cached = _cache(gw).get(url)
        age = time.monotonic() - cached[0] if cached else None
        if cached and age < MAX_AGE_S and (_find(cached[1], kid) or age < floor):
            key = _find(cached[1], kid)
        else:
            key = _find(_fetch(gw, url), kid)
    if key is None:
        raise Unauthorized(N_("the id_token is signed with a key its issuer does not publish"))
    return key
