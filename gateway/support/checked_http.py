"""The connections of one outbound call (``outbound``): each address checked when it is
connected to, and the whole call cut off at its deadline.

A urllib3 connection normally resolves the host and connects to what it gets; here the
resolution and the connect are the call's own (``Call.connect``), so the address the
policy allowed is the address used. The call keeps a duplicate of every socket it opened
and a timer: at the deadline it shuts them down, which ends any read still waiting, however
slowly the other side drips its answer. Every answer is read whole, within the size limit,
inside ``send``, so no caller can forget either limit.
"""

from __future__ import annotations

import socket
import threading
import time
from contextlib import suppress

import requests
from requests.adapters import HTTPAdapter
from urllib3 import HTTPConnectionPool, HTTPSConnectionPool, PoolManager
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.exceptions import NewConnectionError

MAX_BYTES = 2 * 1024 * 1024


class AddressRefused(OSError):
    """A connection the policy does not allow (the address is named in the log only)."""


class Call:
    """One outbound call: its deadline, and the sockets to cut when the deadline passes."""

    def __init__(self, policy):
        self.policy = policy
        self.ends_at = time.monotonic() + policy.deadline_s
        self.expired = False
        self.refused: str | None = None
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(policy.deadline_s, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def remaining(self) -> float:
        return max(0.01, self.ends_at - time.monotonic())

    def connect(self, host: str, port: int, timeout, options) -> socket.socket:
        """Resolve ``host``, refuse any address the policy does not allow, and connect to
        an allowed one: the address checked is the address used."""
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        for *_, sockaddr in found:
            if not self.policy.allows(host, sockaddr[0]):
                self.refused = f"{host} resolves to {sockaddr[0]}"
                raise AddressRefused(f"the address of {host} is not allowed")
        error: OSError | None = None
        for family, kind, proto, _, sockaddr in found:
            sock = socket.socket(family, kind, proto)
            try:
                for option in options or ():
                    sock.setsockopt(*option)
                limit = self.remaining() if timeout is None else min(timeout, self.remaining())
                sock.settimeout(limit)
                sock.connect(sockaddr)
            except OSError as exc:
                sock.close()
                error = exc
                continue
            with self._lock:
                # A duplicate: TLS takes the original over; cutting the duplicate cuts both.
                self._sockets.append(sock.dup())
            return sock
        raise error or OSError(f"{host} could not be reached")

    def _expire(self) -> None:
        self.expired = True
        with self._lock:
            for sock in self._sockets:
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self._timer.cancel()
        with self._lock:
            for sock in self._sockets:
                sock.close()
            self._sockets.clear()


class _Checked:
    """A urllib3 connection that connects through the call's checks."""

    def __init__(self, *args, call: Call, **kwargs):
        self._call = call
        super().__init__(*args, **kwargs)

    def _new_conn(self):
        try:
            return self._call.connect(self._dns_host, self.port, self.timeout, self.socket_options)
        except OSError as exc:
            raise NewConnectionError(self, f"no connection: {type(exc).__name__}") from exc


class _CheckedHTTP(_Checked, HTTPConnection):
    pass


class _CheckedHTTPS(_Checked, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _CheckedHTTP


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _CheckedHTTPS


class _Pools(PoolManager):
    def __init__(self, call: Call, **kwargs):
        super().__init__(**kwargs)
        self._call = call
        self.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}

    def _new_pool(self, scheme, host, port, request_context=None):
        context = dict(self.connection_pool_kw if request_context is None else request_context)
        context["call"] = self._call  # handed on to each connection the pool makes
        return super()._new_pool(scheme, host, port, context)


class TooLarge(requests.RequestException):
    """The answer is longer than ``MAX_BYTES``."""


class Adapter(HTTPAdapter):
    """Every request of the call through its pools; every answer read whole, within the
    deadline and the size limit (so no caller can forget either)."""

    def __init__(self, call: Call):
        self._call = call
        super().__init__(max_retries=0)

    def init_poolmanager(self, connections, maxsize, block=False, **kwargs):
        self.poolmanager = _Pools(
            self._call, num_pools=connections, maxsize=maxsize, block=block, **kwargs
        )

    def send(self, request, stream=False, timeout=None, **kwargs):
        limit = self._call.remaining()
        reply = super().send(request, stream=True, timeout=(min(3.05, limit), limit), **kwargs)
        try:
            length = reply.headers.get("Content-Length")
            if length and length.isdigit() and int(length) > MAX_BYTES:
                raise TooLarge("the answer is too large")
            body = reply.raw.read(MAX_BYTES + 1, decode_content=True)
        except (Urllib3Error, OSError) as exc:
            raise requests.ConnectionError(f"the answer broke off: {type(exc).__name__}") from None
        finally:
            reply.close()
        if len(body) > MAX_BYTES:
            raise TooLarge("the answer is too large")
        reply._content, reply._content_consumed = body, True
        return reply
