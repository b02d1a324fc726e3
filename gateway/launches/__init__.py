"""Launches: one-time launch links, embed pages, and the one-statement warm launch."""
