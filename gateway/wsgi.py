"""The WSGI entry point for gunicorn: ``gateway.wsgi:app``."""

import sys

from .app import create_app
from .config import ConfigError

try:
    app = create_app()
except ConfigError as exc:
    print(f"cocalc-gateway: {exc}", file=sys.stderr)
    sys.exit(2)
