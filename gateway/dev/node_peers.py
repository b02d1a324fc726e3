"""What the npm test peers (the OpenID Provider, the SAML IdP) share: a free loopback port
to start one on, and a stop that closes its standard input (each peer stops when it
closes) and kills it only if it does not."""

from __future__ import annotations

import socket
import subprocess


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.stdin.close()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
