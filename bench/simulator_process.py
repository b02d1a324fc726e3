"""The benchmark's CoCalc simulator, in a process of its own: in the benchmark's process it
would share one interpreter lock with the load driver (Playwright's, the token minting) and
measure their contention as CoCalc's latency.

``python -m bench.simulator_process PORT CONFIG_JSON`` serves until its parent ends.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

import requests

from gateway.dev.devserver import ThreadedServer
from gateway.dev.simulator import SimulatorConfig, create_simulator_app


class SimulatorProcess:
    """A simulator in a child process: ``url``, ``stop()``."""

    def __init__(self, port: int, config: dict):
        self.url = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.simulator_process", str(port), json.dumps(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                requests.get(f"{self.url}/_sim/calls", timeout=2).raise_for_status()
                return
            except requests.RequestException:
                time.sleep(0.1)
        raise RuntimeError("the simulator process did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def _exit_with_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(0)


def main() -> None:
    port, config = int(sys.argv[1]), json.loads(sys.argv[2])
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    server = ThreadedServer(port=port)
    server.start(create_simulator_app(SimulatorConfig(**config)))
    threading.Event().wait()


if __name__ == "__main__":
    main()
