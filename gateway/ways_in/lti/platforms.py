"""Platform registrations: which LMS (issuer and client id) launches for which host.

A registration names the platform's three URLs (OIDC login, token, key set) and the
deployments it may launch from; a launch from any other deployment is refused.
"""

from __future__ import annotations

import secrets

from sqlalchemy.exc import IntegrityError

from ... import hosts
from ...context import Gateway
from ...errors import N_, BadRequest, Conflict, NotFound
from ...store.lti_tables import LtiPlatform
from ...store.registry import Registry
from ...support.outbound import check_url


def _check_id(value, name: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 255:
        raise BadRequest(
            N_("%(name)s must be a non-empty string of at most 255 characters"), name=name
        )
    if any(ord(c) < 0x20 for c in value) or value != value.strip():
        raise BadRequest(N_("%(name)s must not hold control characters or edge spaces"), name=name)
    return value


def add(
    gw: Gateway,
    host_id: str,
    *,
    issuer: str,
    client_id: str,
    deployment_ids: list[str],
    login_url: str,
    token_url: str,
    jwks_url: str,
    allow_no_deployment: bool = False,
) -> LtiPlatform:
    """Register a platform for a host (one registration per issuer and client id).

    ``allow_no_deployment``: Dynamic Registration, where some LMSs name the deployment only
    later (``lti platforms add-deployment`` then adds it)."""
    hosts.get(gw, host_id)
    if not deployment_ids and not allow_no_deployment:
        raise BadRequest(N_("a platform needs at least one deployment id (--deployment-id)"))
    platform = LtiPlatform(
        id="plat_" + secrets.token_hex(8),
        host_id=host_id,
        issuer=check_url(issuer, "issuer"),
        client_id=_check_id(client_id, "client id"),
        deployment_ids=sorted({_check_id(d, "deployment id") for d in deployment_ids}),
        login_url=check_url(login_url, "login URL"),
        token_url=check_url(token_url, "token URL"),
        jwks_url=check_url(jwks_url, "key set URL"),
        algorithms=["RS256"],
    )
    try:
        with gw.db.begin() as session:
            session.add(platform)
    except IntegrityError:
        raise Conflict(
            N_("a platform with issuer %(issuer)r and client id %(client_id)r is registered"),
            issuer=issuer,
            client_id=client_id,
        ) from None
    return platform


def add_deployment(gw: Gateway, platform_id: str, deployment_id: str) -> LtiPlatform:
    with gw.db.begin() as session:
        platform = session.get(LtiPlatform, platform_id)
        if platform is None:
            raise NotFound(N_("no platform with id %(platform_id)r"), platform_id=platform_id)
        ids = set(platform.deployment_ids) | {_check_id(deployment_id, "deployment id")}
        platform.deployment_ids = sorted(ids)
    return platform


REGISTRY = Registry(
    LtiPlatform,
    "platform",
    (
        "id",
        "host_id",
        "issuer",
        "client_id",
        "deployment_ids",
        "login_url",
        "token_url",
        "jwks_url",
        "created_at",
    ),
)


def all_platforms(gw: Gateway) -> list[LtiPlatform]:
    return REGISTRY.all(gw.db)


def get(gw: Gateway, platform_id: str) -> LtiPlatform:
    return REGISTRY.get(gw.db, platform_id)


def remove(gw: Gateway, platform_id: str) -> None:
    """Forget a registration: its launches stop; its users and their projects stay."""
    REGISTRY.remove(gw.db, platform_id)


def find(gw: Gateway, issuer, client_id) -> LtiPlatform:
    """The registration a login names: by issuer, and client id when the platform sends it
    (it must, when the issuer has several registrations)."""
    if not isinstance(issuer, str) or not issuer:
        raise BadRequest(N_("the login request has no issuer (iss)"), field="iss")
    if client_id and not isinstance(client_id, str):
        raise BadRequest(N_("client_id must be a string"), field="client_id")
    found = REGISTRY.find(gw.db, issuer=issuer, client_id=client_id or None, limit=2)
    if not found:
        raise NotFound(N_("this platform is not registered with the gateway (issuer, client id)"))
    if len(found) > 1:
        raise BadRequest(
            N_("this issuer has several registrations: the login request must name its client_id"),
            field="client_id",
        )
    return found[0]


def describe(platform: LtiPlatform) -> dict:
    return REGISTRY.describe(platform)
