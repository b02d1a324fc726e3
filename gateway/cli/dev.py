"""``cocalc-gateway simulator`` and ``demo``: development tools, loaded only when run."""

from __future__ import annotations

import importlib.util

import click


def available() -> bool:
    """Whether the dev tools are installed (a checkout: yes; the production wheel: no)."""
    return importlib.util.find_spec("gateway.dev") is not None


@click.command()
@click.option("--port", default=5100, show_default=True)
@click.option("--dialect", type=click.Choice(["v1", "current"]), default="v1", show_default=True)
@click.option("--admin-key", envvar="SIMULATOR_ADMIN_KEY", help="API key of the admin account.")
@click.option(
    "--comm-origin",
    "origins",
    multiple=True,
    help="An http origin (with port) the kiosk page answers; for local testing.",
)
@click.option("--latency-ms", default=0.0)
def simulator(port, dialect, admin_key, origins, latency_ms):
    """Run the CoCalc simulator on 127.0.0.1:PORT."""
    from ..dev.devserver import ThreadedServer
    from ..dev.simulator import SimulatorConfig, create_simulator_app

    config = SimulatorConfig(dialect=dialect, insecure_origins=list(origins), latency_ms=latency_ms)
    if admin_key:
        config.admin_key = admin_key
    server = ThreadedServer(create_simulator_app(config), port=port)
    click.echo(f"CoCalc simulator ({dialect}) on {server.url}")
    server.server.serve_forever()


@click.command()
@click.option("--port", default=5000, show_default=True, help="Port of the demo host page.")
@click.option(
    "--dialect", type=click.Choice(["v1", "current"]), default="current", show_default=True
)
def demo(port, dialect):
    """Run the simulator, the gateway and a demo host page, each on its own port."""
    from ..dev.demo import run_demo

    run_demo(host_port=port, dialect=dialect)
