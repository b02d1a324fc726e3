"""``cocalc-gateway doctor`` and ``cocalc-gateway connect``: an operator's first commands."""

from __future__ import annotations

import json

import click
from flask.cli import with_appcontext

from ..operator import doctor as service
from ..operator.findings import FAIL, OK, SKIP, WARN
from ..web.current import gateway

MARKS = {OK: "ok  ", WARN: "warn", FAIL: "FAIL", SKIP: "skip"}


def print_findings(findings) -> None:
    for finding in findings:
        click.echo(f"[{MARKS[finding.status]}] {finding.name}: {finding.detail}")
        if finding.action and finding.status in (FAIL, WARN):
            click.echo(f"       do: {finding.action}")


@click.command("doctor")
@click.option("--fix", is_flag=True, help="Set the site settings the admin key may set.")
@click.option("--yes", is_flag=True, help="With --fix: do not ask before each change.")
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
@click.option("--no-launch", is_flag=True, help="Skip the synthetic launch of a throw-away user.")
@with_appcontext
def doctor(fix, yes, as_json, no_launch):
    """Check everything CoCalc needs for embedding; exit 1 when something fails."""
    gw = gateway()
    findings = service.run(gw, synthetic=not no_launch)
    applied = []
    if fix:
        for finding in service.fixes(findings):
            name, value = finding.fix
            prompt = f"Set CoCalc's {name} to {value!r}?" + (
                " (takes effect after CoCalc's hub restarts)" if finding.restart else ""
            )
            if yes or as_json or click.confirm(prompt, default=True, err=True):
                applied.append(service.apply(gw, finding))
        if applied:
            findings = service.run(gw, synthetic=not no_launch)
    if as_json:
        report = {
            "ok": service.healthy(findings),
            "findings": [f.as_dict() for f in findings],
            "fixed": [f.as_dict() for f in applied],
        }
        click.echo(json.dumps(report, indent=2))
    else:
        if applied:
            print_findings(applied)
            click.echo("")
        print_findings(findings)
        restart = any(f.restart and f.status == OK for f in applied)
        if restart:
            click.echo("\nRestart CoCalc's hub for the dns change to take effect.")
    if not service.healthy(findings):
        raise SystemExit(1)


@click.command("connect")
@click.option("--url", envvar="COCALC_URL", required=True, help="CoCalc's URL (or COCALC_URL).")
def connect(url):
    """Get an API key by signing in to CoCalc (e-mail and password are asked for, never
    taken from arguments); print the settings for the gateway; then run the doctor."""
    from ..config import ConfigError
    from ..operator.connect import ConnectError, obtain_key

    email = click.prompt("E-mail of a CoCalc admin account", err=True)
    password = click.prompt("Password", hide_input=True, err=True)
    try:
        got = obtain_key(url, email, password)
    except ConnectError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo("# Put these in the gateway's environment (the key is shown only now):")
    click.echo(f"COCALC_URL={url}")
    click.echo(f"COCALC_API_KEY={got.api_key}")
    from ..app import create_app

    try:
        app = create_app({"COCALC_URL": url, "COCALC_API_KEY": got.api_key})
    except ConfigError as exc:
        click.echo(f"\n# Then run `cocalc-gateway doctor` (the gateway is not set up yet: {exc})")
        return
    click.echo("")
    with app.app_context():
        findings = service.run(gateway())
    print_findings(findings)
    if not service.healthy(findings):
        raise SystemExit(1)
