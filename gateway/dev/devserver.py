"""Serve a WSGI app on 127.0.0.1 in a background thread (tests, the demo, the simulator)."""

from __future__ import annotations

import logging
import threading

from werkzeug.serving import WSGIRequestHandler, make_server


class _KeepAliveHandler(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"


class ThreadedServer:
    """A real HTTP server on a loopback port that stops when asked or when the process ends."""

    def __init__(
        self,
        app=None,
        port: int = 0,
        host: str = "127.0.0.1",
        *,
        access_log=False,
        ssl_context=None,
        name: str | None = None,
    ):
        """``ssl_context``: serve https; ``name``: the host name its URL uses (one that the
        browser maps to loopback, e.g. ``gw.example.test``), else ``host``."""
        # werkzeug logs a line per request; tests and the demo usually want quiet.
        logging.getLogger("werkzeug").setLevel(logging.INFO if access_log else logging.WARNING)
        # HTTP/1.1 keeps connections open between requests, like a production server.
        self.server = make_server(
            host,
            port,
            app,
            threaded=True,
            request_handler=_KeepAliveHandler,
            ssl_context=ssl_context,
        )
        self.server.daemon_threads = True
        self.port = self.server.server_port
        scheme = "https" if ssl_context is not None else "http"
        self.url = f"{scheme}://{name or host}:{self.port}"
        # A short poll interval: stop() waits for the loop to notice, at most this long
        # (the default, 0.5 s, was a second per test of the two servers most tests stop).
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def start(self, app=None) -> ThreadedServer:
        """Serve ``app`` (or the one given at construction; set late when it needs the URL)."""
        if app is not None:
            self.server.app = app
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
