"""URLs the gateway hands to others: always built from GATEWAY_PUBLIC_URL, never the request.

A request's ``Host``, ``X-Forwarded-Host`` and ``X-Forwarded-Prefix`` are the client's to
choose; a URL built from them and handed to a host's server (the API's one-time link) or
put in a redirect could point anywhere (``X-Forwarded-Prefix: //evil.example`` made the
launch redirect an open redirect). ``GATEWAY_PUBLIC_URL``, with any path prefix the gateway
is served under, is the one source of every URL it builds.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app


def public_url(endpoint: str, **values) -> str:
    """The absolute URL of ``endpoint`` under GATEWAY_PUBLIC_URL."""
    adapter = current_app.extensions.get("public_url_adapter")
    if adapter is None:  # bound once per app: an embed page builds four of these URLs
        adapter = current_app.url_map.bind("gateway.invalid", script_name="/")
        current_app.extensions["public_url_adapter"] = adapter
    return current_app.config["GATEWAY_PUBLIC_URL"] + adapter.build(endpoint, values)


def public_folder(endpoint: str) -> str:
    """The path of the folder ``endpoint``'s public URL is in (``/prefix/lti/``): the path
    of a cookie that only the gateway's pages under it should get."""
    return urlsplit(public_url(endpoint)).path.rsplit("/", 1)[0] + "/"
