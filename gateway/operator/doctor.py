"""``cocalc-gateway doctor``: every check, in the order an operator would fix them, and
``--fix`` for the site settings an admin key may set. ``/readyz`` runs the same checks
(all but the synthetic launch) in the background (``readiness``)."""

from __future__ import annotations

from .. import config
from ..cocalc import CoCalcError
from ..context import Gateway
from . import cocalc_checks as cocalc
from . import gateway_checks as gateway
from . import saml_checks as saml
from .findings import FAIL, OK, SKIP, Finding


def _safe(name: str, check, *args) -> Finding:
    """Run one check; one that breaks (the database is down, say) fails alone, by name."""
    try:
        return check(*args)
    except Exception as exc:  # a doctor reports; it does not crash on what it diagnoses
        return _broken(name, exc)


def _broken(name: str, exc: Exception) -> Finding:
    return Finding(name, FAIL, f"could not be checked ({type(exc).__name__})")


#: The settings each check needs; a check whose settings are missing is skipped, by name.
COCALC = ("COCALC_URL", "COCALC_API_KEY")
PUBLIC = ("GATEWAY_PUBLIC_URL",)
EVERYTHING = (*COCALC, *PUBLIC, "GATEWAY_SECRET_KEY")


def configuration(gw: Gateway) -> Finding:
    unset = config.missing(gw.settings)
    if not unset:
        return Finding("configuration", OK, "every required setting is set")
    helps = {s.name: s.help for s in config.SETTINGS}
    return Finding(
        "configuration",
        FAIL,
        "not set: " + ", ".join(unset),
        "; ".join(f"{name}: {helps[name]}" for name in unset),
        facts={"missing": unset},
    )


def run(gw: Gateway, *, synthetic: bool = True) -> list[Finding]:
    unset = set(config.missing(gw.settings))

    def skipped(name: str, needs: tuple) -> Finding | None:
        lacking = [n for n in needs if n in unset]
        return Finding(name, SKIP, f"needs {' and '.join(lacking)}") if lacking else None

    def check(name: str, needs: tuple, fn, *args) -> Finding:
        return skipped(name, needs) or _safe(name, fn, *args)

    spoken = check("dialect", COCALC, cocalc.dialect, gw)
    findings = [configuration(gw), check("cocalc_https", COCALC, cocalc.reachable, gw), spoken]
    if spoken.failed:  # nothing more of CoCalc can be asked, and no key is to blame
        unknown = Finding("api_key", SKIP, "CoCalc's API is not known (see dialect)")
        return [*findings, unknown, *_gateway_side(gw, check, synthetic)]
    settings, read = None, skipped("site_settings", COCALC)
    if read is None:
        try:
            settings, read = cocalc.read_settings(gw)
        except Exception as exc:  # a transport error that is no CoCalcError fails this alone
            settings, read = None, _broken("site_settings", exc)
    findings += [
        check("api_key", COCALC, cocalc.admin_key, gw, settings),
        read,
        check("iframe_comm_hosts", (*COCALC, *PUBLIC), cocalc.iframe_comm_hosts, gw, settings),
        check("dns", COCALC, cocalc.dns, gw, settings),
        check("framed_sign_in", (*COCALC, *PUBLIC), cocalc.framed_sign_in, gw, settings),
        check("first_projects", COCALC, cocalc.first_projects, gw),
    ]
    return [*findings, *_gateway_side(gw, check, synthetic)]


def _gateway_side(gw: Gateway, check, synthetic: bool) -> list[Finding]:
    found = [
        check("gateway_https", PUBLIC, gateway.public_url, gw),
        check("proxy", (), gateway.proxy, gw),
        check("database", (), gateway.database, gw),
    ]
    try:  # one finding per SAML identity provider (none where no host uses SAML)
        found += saml.identity_providers(gw)
        keys = saml.service_provider_keys(gw)
        found += [keys] if keys else []
    except Exception as exc:
        found.append(_broken("saml", exc))
    if synthetic:
        found.append(check("synthetic_launch", EVERYTHING, gateway.synthetic_launch, gw))
    return found


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
