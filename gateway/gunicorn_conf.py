"""Gunicorn settings, from the environment: ``gunicorn --config python:gateway.gunicorn_conf``.

The workers are gevent's: each connection is a greenlet, not a thread, so a client that
sends its request slowly, or opens a connection and sends nothing, holds a few kilobytes and
no worker. Gunicorn gives a request's line and headers ``keepalive`` seconds to arrive (and
an idle keep-alive connection as long), then closes the connection. With the thread
workers, every new connection took one of a worker's threads while it was read: 50 slow
clients stopped the gateway. See the README's "Serving" section for the measurement.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count()))
worker_class = "gevent"
# A worker holds at most this many connections (keep-alive ones included), then stops
# accepting until some close.
worker_connections = int(os.environ.get("GUNICORN_WORKER_CONNECTIONS", "1000"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
# Seconds a request's line and headers may take to arrive, and an idle connection may stay.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
# Caps on what a request line and its headers may be (gunicorn's defaults, made explicit).
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190
accesslog = "-"
errorlog = "-"
# Redacts tokens, secrets and one-time launch keys from every access-log field.
logger_class = "gateway.support.logs.GunicornLogger"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def worker_exit(server, worker):
    """A worker that stops closes its app: background work under way finishes (a token
    revocation, a refill), housekeeping stops, and the database pools close."""
    app = getattr(worker, "wsgi", None)
    if app is not None and hasattr(app, "extensions"):
        from gateway.web.current import close

        close(app)
