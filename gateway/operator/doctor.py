"""``cocalc-gateway doctor``: every check, in the order an operator would fix them, and
``--fix`` for the site settings an admin key may set. ``/readyz`` runs the same checks
(all but the synthetic launch) in the background (``readiness``)."""

from __future__ import annotations

from ..cocalc import CoCalcError
from ..context import Gateway
from . import cocalc_checks as cocalc
from . import gateway_checks as gateway
from .findings import FAIL, OK, Finding


def _safe(name: str, check, *args) -> Finding:
    """Run one check; one that breaks (the database is down, say) fails alone, by name."""
    try:
        return check(*args)
    except Exception as exc:  # a doctor reports; it does not crash on what it diagnoses
        return _broken(name, exc)


def _broken(name: str, exc: Exception) -> Finding:
    return Finding(name, FAIL, f"could not be checked ({type(exc).__name__})")


def run(gw: Gateway, *, synthetic: bool = True) -> list[Finding]:
    findings = [_safe("cocalc_https", cocalc.reachable, gw), _safe("dialect", cocalc.dialect, gw)]
    try:
        settings, read = cocalc.read_settings(gw)
    except Exception as exc:  # a transport error that is no CoCalcError fails this check alone
        settings, read = None, _broken("site_settings", exc)
    findings += [
        _safe("api_key", cocalc.admin_key, gw, settings),
        read,
        _safe("iframe_comm_hosts", cocalc.iframe_comm_hosts, gw, settings),
        _safe("dns", cocalc.dns, gw, settings),
        _safe("samesite_remember_me", cocalc.samesite, gw, settings),
        _safe("gateway_https", gateway.public_url, gw),
        _safe("proxy", gateway.proxy, gw),
        _safe("database", gateway.database, gw),
    ]
    if synthetic:
        findings.append(_safe("synthetic_launch", gateway.synthetic_launch, gw))
    return findings


def healthy(findings: list[Finding]) -> bool:
    return not any(f.failed for f in findings)


def fixes(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.failed and f.fix]


def apply(gw: Gateway, finding: Finding) -> Finding:
    """Set the site setting a finding names; say whether it took."""
    name, value = finding.fix
    try:
        gw.cocalc.set_site_setting(name, value)
    except CoCalcError as exc:
        return Finding(name, FAIL, f"could not be set ({exc})", finding.action)
    after = " (restart CoCalc's hub for it to take effect)" if finding.restart else ""
    return Finding(name, OK, f"set to {value!r}{after}", restart=finding.restart)


__all__ = ["FAIL", "OK", "Finding", "apply", "fixes", "healthy", "run"]
