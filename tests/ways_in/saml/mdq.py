"""A small Metadata Query (MDQ) service on loopback, as a federation runs one: it answers
``GET {base}/entities/{sha1}<hex>`` with one entity's metadata, signed by the federation's
key (xmlsec1, through ``Signer``), with a ``validUntil`` and a ``cacheDuration``."""

from __future__ import annotations

import hashlib
import re
import threading
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

from gateway.dev.saml_peer import key_and_certificate
from tests.ways_in.saml.idp_peers import Signer


class Federation:
    """The federation's signing key, and how it wraps an IdP's metadata."""

    def __init__(self, name: str = "Test Federation"):
        key, certificate = key_and_certificate(name)
        self.signer = Signer(key, certificate)
        self.certificate_pem = certificate

    def publish(self, metadata: str, *, valid_for=timedelta(days=7), cache="PT6H",
                signed: bool = True) -> bytes:  # fmt: skip
        """The IdP's EntityDescriptor as the federation publishes it."""
        valid_until = (datetime.now(UTC) + valid_for).strftime("%Y-%m-%dT%H:%M:%SZ")
        entity_id = "_fed" + hashlib.sha1(metadata.encode(), usedforsecurity=False).hexdigest()
        marked = re.sub(
            r"<((?:\w+:)?EntityDescriptor)\b",
            rf'<\1 ID="{entity_id}" validUntil="{valid_until}" cacheDuration="{cache}"',
            metadata,
            count=1,
        )
        if signed:
            marked = self.signer.sign(marked, "EntityDescriptor", entity_id)
        return marked.encode()


class MdqServer:
    def __init__(self):
        self.documents: dict[str, bytes] = {}
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests.append(self.path)
                found = server.documents.get(unquote(self.path))
                self.send_response(200 if found else 404)
                self.send_header("Content-Type", "application/samlmetadata+xml")
                self.send_header("Date", format_datetime(datetime.now(UTC), usegmt=True))
                body = found or b"not found"
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self._httpd.server_address[1]}/mdq"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    def serve(self, entity_id: str, document: bytes) -> None:
        sha1 = hashlib.sha1(entity_id.encode(), usedforsecurity=False).hexdigest()
        self.documents["/mdq/entities/{sha1}" + sha1] = document

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
