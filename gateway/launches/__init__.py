"""Launches: one-time launch links, embed pages, and the one-statement warm launch."""

from . import cleanup  # noqa: F401  (registers its housekeeping task)
