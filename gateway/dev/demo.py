"""``make demo``: the CoCalc simulator, the gateway and a demo host site on three ports."""

from __future__ import annotations

import secrets
import tempfile
import time
from pathlib import Path

import click
import requests
from flask import Flask, jsonify, render_template, request
from joserfc import jwt
from joserfc.jwk import OctKey

from .. import create_app, hosts
from ..store import migrate
from ..support.languages import clean_tag
from ..web.current import gateway
from .devserver import ThreadedServer
from .languages import speak
from .resources import STATIC, TEMPLATES
from .simulator import SimulatorConfig, create_simulator_app

DEMO_USERS = {
    "alice": {"email": "alice@example.edu", "given_name": "Alice", "family_name": "Lovelace"},
    "bob": {"email": None, "given_name": "Bob", "family_name": "Babbage"},
}
TEMPLATE_FILES = {
    "welcome.md": "# Welcome\n\nThis file was copied from the course template.\n",
    "notes/ideas.md": "# Ideas\n\n- Try the buttons on the left.\n",
    "analysis.py": "print('hello from CoCalc')\n",
}


def make_token(
    host_id: str, secret: str, user: str, path: str, context: str = "", locale: str | None = None
) -> str:
    """Sign a launch token the way a host's server would (with its page's language)."""
    now = int(time.time())
    profile = DEMO_USERS[user]
    claims = {
        "iss": host_id,
        "sub": user,
        "iat": now,
        "exp": now + 300,
        "jti": secrets.token_urlsafe(16),
        "path": path,
        "given_name": profile["given_name"],
        "family_name": profile["family_name"],
    }
    if profile["email"]:
        claims["email"] = profile["email"]
    if context:
        claims["context"] = context
    if locale:
        claims["locale"] = locale
    return jwt.encode({"alg": "HS256"}, claims, OctKey.import_key(secret.encode()))


def host_site(gateway_url: str, host_id: str, secret: str, *, sso_url=None, lms_url=None) -> Flask:
    """A stand-in for a host's web site: signs tokens and asks the gateway for launches."""
    app = Flask("demo_host", template_folder=TEMPLATES, static_folder=STATIC)
    speak(app)

    @app.get("/")
    def page():
        return render_template(
            "demo/host.html",
            gateway_url=gateway_url,
            users=DEMO_USERS,
            files=list(TEMPLATE_FILES),
            sso_url=sso_url,
            lms_url=lms_url,
        )

    @app.post("/demo/launch")
    def launch():
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return jsonify(error="send a JSON object"), 400
        user, path = body.get("user", "alice"), body.get("path", "welcome.md")
        if user not in DEMO_USERS:
            return jsonify(error="unknown demo user"), 400
        # The host page's language goes with the launch: the embed page speaks it too.
        locale = clean_tag(body.get("locale"))
        if body.get("way") == "api":
            profile = DEMO_USERS[user]
            reply = requests.post(
                f"{gateway_url}/api/v1/launches",
                headers={"Authorization": f"Bearer {secret}"},
                json={
                    "user": {
                        "id": user,
                        "email": profile["email"],
                        "first_name": profile["given_name"],
                        "last_name": profile["family_name"],
                    },
                    "path": path,
                    **({"locale": locale} if locale else {}),
                },
                timeout=30,
            )
            return jsonify(reply.json()), reply.status_code
        return jsonify(
            url=f"{gateway_url}/launch",
            token=make_token(host_id, secret, user, path, locale=locale),
        )

    return app


def start_stack(
    dialect="current",
    *,
    host_port=0,
    gateway_port=0,
    simulator_port=0,
    lms_port=None,
    oidc=False,
    settings=None,
) -> dict:
    """Start simulator, gateway and demo host site; each on its own port, so origins differ.

    With ``lms_port`` (0 for any), an LTI 1.3 platform too (``gateway.dev.lms``), registered
    with the gateway for the same host, so its course pages launch notebooks. With ``oidc``,
    the test OpenID Provider (npm oidc-provider) signs the host's users in."""
    # Bind all three ports first: each server's configuration names the others' origins.
    simulator = ThreadedServer(port=simulator_port)
    gateway_server = ThreadedServer(port=gateway_port)
    host_server = ThreadedServer(port=host_port)
    # The simulated CoCalc answers the gateway's pages: plain http with a port is allowed
    # only in the simulator (real CoCalc needs https on port 443, see the README).
    sim_config = SimulatorConfig(
        dialect=dialect,
        account_rate_limit=None,
        insecure_origins=[gateway_server.url],
        dns=simulator.url,
    )
    simulator.start(create_simulator_app(sim_config))
    app = _gateway_app(simulator.url, sim_config.admin_key, gateway_server.url, settings)
    with app.app_context():
        host, secret, lms_server, lms = _seed(
            gateway(), host_server.url, gateway_server.url, lms_port
        )
        provider = _identity_provider(gateway(), host.id, gateway_server.url) if oidc else None
        sso_url = f"{gateway_server.url}/sso/{host.id}/login?path=welcome.md" if provider else None
        host_app = host_site(
            gateway_server.url,
            host.id,
            secret,
            sso_url=sso_url,
            lms_url=lms.url if lms else None,
        )
    gateway_server.start(app)
    host_server.start(host_app)
    return {
        "lms": lms_server,
        "lms_state": lms,
        "oidc": provider,
        "simulator": simulator,
        "gateway": gateway_server,
        "host": host_server,
        "app": app,
        "host_id": host.id,
        "host_secret": secret,
        "simulator_config": sim_config,
    }


def _gateway_app(cocalc_url: str, api_key: str, public_url: str, settings) -> Flask:
    workdir = Path(tempfile.mkdtemp(prefix="cocalc-gateway-demo-"))
    return create_app(
        {
            "COCALC_URL": cocalc_url,
            "COCALC_API_KEY": api_key,
            "COCALC_API_DIALECT": "auto",
            "DATABASE_URL": f"sqlite:///{workdir / 'demo.sqlite3'}",
            "GATEWAY_SECRET_KEY": secrets.token_urlsafe(32),
            "GATEWAY_PUBLIC_URL": public_url,
            **(settings or {}),
        }
    )


def _seed(gw, host_url: str, gateway_url: str, lms_port):
    """The demo's data: a template project, the host, and the LMS registered for it."""
    migrate.upgrade(gw.db.engine)
    template = gw.cocalc.create_project(title="Course template", start=True).project_id
    for path, content in TEMPLATE_FILES.items():
        gw.cocalc.write_text_file_to_project(template, path, content)
    host, secret = hosts.add(gw, "Demo course", [host_url], template_project_id=template)
    lms_server, lms = None, None
    if lms_port is not None:
        from ..ways_in.lti import platforms
        from .lms import start_lms

        # A host of its own: the LMS's pages frame the gateway, the course site's do not.
        lms_server, lms = start_lms(gateway_url, port=lms_port)
        lms_host, _ = hosts.add(gw, "Demo LMS course", [lms.url], template_project_id=template)
        values = lms.gateway_commands(lms_host.id)
        platforms.add(gw, values.pop("host_id"), **values)
    return host, secret, lms_server, lms


def _identity_provider(gw, host_id: str, gateway_url: str):
    """The test OpenID Provider, registered for the host (None when npm's is not installed)."""
    from ..ways_in.sso import providers
    from .oidc_peer import ProviderMissing, start_provider

    try:
        provider = start_provider(gateway_url + "/sso/callback", gateway_url + "/sso/signed-out")
    except ProviderMissing as exc:
        click.echo(f"(no demo identity provider: {exc})", err=True)
        return None
    providers.add(
        gw,
        host_id,
        issuer=provider.issuer,
        client_id=provider.client_id,
        client_secret=provider.client_secret,
    )
    return provider


def _saml_university(app, template_project_id: str):
    """A host whose people sign in with SAML at npm's samlify (its own login form), for the
    demo; None (and a line saying why) when the npm peer is not installed."""
    from ..ways_in.saml import idps
    from .saml_peer import IdpMissing, start_idp

    try:
        peer = start_idp(name="Demo University", scope="example.test")
    except IdpMissing as exc:
        click.echo(f"(no demo SAML identity provider: {exc})", err=True)
        return None, None
    peer.choose(None)  # its login form asks who signs in
    with app.app_context():
        host, _ = hosts.add(
            gateway(), "Demo university", [], template_project_id=template_project_id
        )
        idps.add(gateway(), host.id, source="url", location=peer.metadata_url)
    return peer, host


def run_demo(host_port: int = 5000, dialect: str = "current") -> None:
    """Serve the demo until Ctrl-C (``make demo``)."""
    stack = start_stack(
        dialect,
        host_port=host_port,
        gateway_port=host_port + 1,
        simulator_port=host_port + 2,
        lms_port=host_port + 3,
        oidc=True,
    )
    click.echo(f"CoCalc simulator ({dialect} API): {stack['simulator'].url}")
    click.echo(f"Gateway:                      {stack['gateway'].url}")
    click.echo(f"\n  Open the demo host page:  {stack['host'].url}")
    click.echo(f"  Or the demo LMS (LTI 1.3): {stack['lms'].url}")
    with stack["app"].app_context():
        template = hosts.get(gateway(), stack["host_id"]).template_project_id
    saml_peer, saml_host = _saml_university(stack["app"], template)
    if saml_host is not None:
        url = f"{stack['gateway'].url}/saml/{saml_host.id}/login?path=welcome.md"
        click.echo(f"  Or sign in with SAML:     {url}")
    click.echo("\nPress Ctrl-C to stop.")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        for name in ("lms", "host", "gateway", "simulator"):
            stack[name].stop()
        if stack["oidc"]:
            stack["oidc"].stop()
        if saml_peer is not None:
            saml_peer.stop()
