"""Read and check the gateway's settings from the environment, once, at start-up."""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from .table import SETTINGS, Setting


class ConfigError(Exception):
    """Raised at start-up when a setting is missing or malformed; names the setting."""


__all__ = ["REQUIRED", "SETTINGS", "ConfigError", "Setting", "from_environment", "load", "missing"]


def _parse(setting: Setting, raw: str) -> Any:
    value = raw.strip()
    if setting.kind in ("int", "float"):
        return _number(setting, value)
    if setting.kind == "bool":
        if value.lower() not in ("true", "false", "1", "0", "yes", "no"):
            raise ConfigError(f"{setting.name} must be true or false")
        return value.lower() in ("true", "1", "yes")
    if setting.kind == "choice" and value not in setting.choices:
        raise ConfigError(f"{setting.name} must be one of: {', '.join(setting.choices)}")
    if setting.kind == "networks":
        return parse_networks(setting.name, value)
    if setting.kind == "url":
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
            raise ConfigError(f"{setting.name} must be an http(s) URL like https://cocalc.example")
        return value.rstrip("/")
    return value


def _number(setting: Setting, value) -> float | int:
    kind = int if setting.kind == "int" else float
    try:
        number = kind(value)
    except (TypeError, ValueError):
        noun = "a whole number" if kind is int else "a number"
        raise ConfigError(f"{setting.name} must be {noun}") from None
    return check_bounds(setting, number)


def check_bounds(setting: Setting, number):
    if setting.minimum is not None and number < setting.minimum:
        raise ConfigError(f"{setting.name} must be at least {setting.minimum:g}")
    if setting.maximum is not None and number > setting.maximum:
        raise ConfigError(f"{setting.name} must be at most {setting.maximum:g}")
    return number


DOMAIN = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))+$")


def check_together(result: dict) -> None:
    """Rules that tie settings together, or that their kind alone cannot say."""
    if result["GATEWAY_SECRET_KEY"] is not None and len(str(result["GATEWAY_SECRET_KEY"])) < 32:
        raise ConfigError("GATEWAY_SECRET_KEY must be at least 32 characters long")
    if not DOMAIN.match(str(result["GATEWAY_EMAIL_DOMAIN"])):
        raise ConfigError("GATEWAY_EMAIL_DOMAIN must be a domain like users.example.invalid")
    if int(result["GATEWAY_OPEN_RETRY_MS"]) > int(result["GATEWAY_OPEN_TIMEOUT_MS"]):
        raise ConfigError("GATEWAY_OPEN_RETRY_MS must not be more than GATEWAY_OPEN_TIMEOUT_MS")
    public = result.get("GATEWAY_PUBLIC_URL")
    if public and urlsplit(str(public)).scheme == "http" and not on_loopback(str(public)):
        # Browsers keep a __Host- cookie only from a secure origin: https, or loopback.
        raise ConfigError(
            "GATEWAY_PUBLIC_URL must be https: browsers keep the gateway's cookies only over "
            "https (plain http works on localhost and 127.0.0.1, for development)"
        )
    token = result.get("GATEWAY_METRICS_TOKEN")
    if token and len(str(token)) < 16:
        raise ConfigError("GATEWAY_METRICS_TOKEN must be at least 16 characters long")


def on_loopback(url: str) -> bool:
    """Whether a URL names this machine (``localhost``, 127.0.0.0/8, ``::1``)."""
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_networks(name: str, value: str) -> tuple:
    """Parse comma-separated networks (``10.0.0.0/8,::1``); raise ConfigError naming ``name``."""
    networks = []
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ConfigError(f"{name}: {item!r} is not a network like 10.0.0.0/8") from None
    return tuple(networks)


REQUIRED = frozenset(s.name for s in SETTINGS if s.required)


def load(
    environ: Mapping[str, str],
    overrides: Mapping[str, Any] | None = None,
    *,
    require: frozenset | None = None,
) -> dict:
    """Return the settings as a dict; raise ConfigError naming the first bad one.

    ``require``: the settings that must be set (default: every required one); a command
    that needs less (``db upgrade``, ``hosts``, ``doctor``) names what it needs, and the
    others it lacks are None (``missing`` lists them)."""
    overrides = dict(overrides or {})
    require = REQUIRED if require is None else require
    result: dict[str, Any] = {}
    for setting in SETTINGS:
        if setting.name in overrides:
            value = overrides.pop(setting.name)
            # Tests pass settings as the environment would (strings) or already typed.
            is_text = isinstance(value, str) and setting.kind != "str"
            if not is_text and setting.kind in ("int", "float"):
                value = check_bounds(setting, value)
            result[setting.name] = _parse(setting, value) if is_text else value
            continue
        raw = environ.get(setting.name, "")
        if raw.strip():
            result[setting.name] = _parse(setting, raw)
        elif setting.name in require:
            raise ConfigError(f"{setting.name} is not set: {setting.help}")
        elif setting.required:
            result[setting.name] = None  # not needed by this command
        elif isinstance(setting.default, str) and setting.kind != "str":
            result[setting.name] = _parse(setting, setting.default)
        else:
            result[setting.name] = setting.default
    check_together(result)
    result.update(overrides)  # anything else tests pass (TESTING, ...)
    return result


def from_environment(
    overrides: Mapping[str, Any] | None = None, *, require: frozenset | None = None
) -> dict:
    return load(os.environ, overrides, require=require)


def missing(settings: Mapping[str, Any]) -> list[str]:
    """The required settings that are not set (for commands that run without them)."""
    return [s.name for s in SETTINGS if s.required and settings.get(s.name) is None]
