"""Read and check the gateway's settings from the environment, once, at start-up."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


class ConfigError(Exception):
    """Raised at start-up when a setting is missing or malformed; names the setting."""


@dataclass(frozen=True)
class Setting:
    name: str
    help: str
    default: Any = None
    required: bool = False
    secret: bool = False
    kind: str = "str"  # str, url, int, float, bool, choice, networks
    choices: tuple[str, ...] = ()


SETTINGS: tuple[Setting, ...] = (
    Setting("COCALC_URL", "Base URL of the CoCalc server", required=True, kind="url"),
    Setting(
        "COCALC_API_KEY", "API key of the gateway's CoCalc account", required=True, secret=True
    ),
    Setting(
        "COCALC_API_DIALECT",
        "v1, current, or auto (probe once)",
        "auto",
        kind="choice",
        choices=("auto", "v1", "current"),
    ),
    Setting("COCALC_TIMEOUT", "Seconds to wait for any CoCalc call", 10.0, kind="float"),
    Setting(
        "COCALC_PROBE_TIMEOUT",
        "Seconds each probe of the dialect may take (auto only; never holds up a request)",
        3.0,
        kind="float",
    ),
    Setting("COCALC_RETRIES", "Retries of calls that are safe to repeat", 2, kind="int"),
    Setting(
        "COCALC_REGISTRATION_TOKEN", "CoCalc registration token, if sign-up needs one", secret=True
    ),
    Setting("COCALC_ORGANIZATION", "Organization name: create users with org.createUser"),
    Setting("DATABASE_URL", "SQLAlchemy URL; default: SQLite in the instance folder"),
    Setting(
        "GATEWAY_SECRET_KEY",
        "Random secret (32+ chars): the default encryption key and the sign-in state's signer",
        required=True,
        secret=True,
    ),
    Setting(
        "GATEWAY_ENCRYPTION_KEYS",
        "Comma-separated Fernet keys, newest first; default: derived from GATEWAY_SECRET_KEY",
        secret=True,
    ),
    Setting("GATEWAY_PUBLIC_URL", "Public base URL of the gateway", required=True, kind="url"),
    Setting(
        "GATEWAY_EMAIL_DOMAIN",
        "Domain for addresses of users without e-mail",
        "users.cocalc-gateway.invalid",
    ),
    Setting(
        "GATEWAY_TOKEN_MARGIN", "Seconds of life a cached token must have left", 3600, kind="int"
    ),
    Setting(
        "GATEWAY_EMBED_LIFETIME", "Seconds an embed page works (0: the token's life)", 0, kind="int"
    ),
    Setting(
        "GATEWAY_PROJECT_START_INTERVAL",
        "Seconds after which a launch asks CoCalc to start the project again (in the background)",
        600,
        kind="int",
    ),
    Setting(
        "GATEWAY_REVOKE_TOKENS",
        "Give each embed page its own token and revoke it once "
        "the browser signed in (current API only)",
        True,
        kind="bool",
    ),
    Setting(
        "GATEWAY_BRIDGE_TIMEOUT_MS",
        "How long the embed page waits for CoCalc to answer",
        20000,
        kind="int",
    ),
    Setting(
        "GATEWAY_OPEN_TIMEOUT_MS",
        "How long the embed page tries, in all, to get its file open in CoCalc",
        60000,
        kind="int",
    ),
    Setting(
        "GATEWAY_OPEN_RETRY_MS",
        "After this long without the file open, the embed page asks for the project to be "
        "started again and tries once more",
        15000,
        kind="int",
    ),
    Setting(
        "GATEWAY_HOUSEKEEPING_INTERVAL",
        "Seconds between housekeeping runs in each process (0: only `cocalc-gateway "
        "housekeeping`, e.g. from cron)",
        300,
        kind="int",
    ),
    Setting(
        "GATEWAY_PROXY_FIX",
        "Number of trusted reverse proxies in front (X-Forwarded-*)",
        0,
        kind="int",
    ),
    Setting(
        "GATEWAY_TRUSTED_PROXIES",
        "Networks of those proxies: X-Forwarded-* from anyone else is ignored",
        "127.0.0.1/32,::1/128",
        kind="networks",
    ),
    Setting("GATEWAY_METRICS_TOKEN", "Bearer token that /metrics requires", secret=True),
    Setting(
        "GATEWAY_METRICS_NETWORKS",
        "Comma-separated networks that may read /metrics without the token",
        "127.0.0.1/32,::1/128",
        kind="networks",
    ),
    Setting(
        "GATEWAY_BENCH_ENDPOINT",
        "Serve the /_bench/ baselines for `make bench` (off in production)",
        False,
        kind="bool",
    ),
    Setting("GATEWAY_LOG_FORMAT", "json or text", "text", kind="choice", choices=("json", "text")),
)


def _parse(setting: Setting, raw: str) -> Any:
    value = raw.strip()
    if setting.kind == "int":
        try:
            return int(value)
        except ValueError:
            raise ConfigError(f"{setting.name} must be a whole number") from None
    if setting.kind == "float":
        try:
            return float(value)
        except ValueError:
            raise ConfigError(f"{setting.name} must be a number") from None
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


def load(environ: Mapping[str, str], overrides: Mapping[str, Any] | None = None) -> dict:
    """Return the settings as a dict; raise ConfigError naming the first bad one."""
    overrides = dict(overrides or {})
    result: dict[str, Any] = {}
    for setting in SETTINGS:
        if setting.name in overrides:
            value = overrides.pop(setting.name)
            # Tests pass settings as the environment would (strings) or already typed.
            is_text = isinstance(value, str) and setting.kind != "str"
            result[setting.name] = _parse(setting, value) if is_text else value
            continue
        raw = environ.get(setting.name, "")
        if raw.strip():
            result[setting.name] = _parse(setting, raw)
        elif setting.required:
            raise ConfigError(f"{setting.name} is not set: {setting.help}")
        elif isinstance(setting.default, str) and setting.kind != "str":
            result[setting.name] = _parse(setting, setting.default)
        else:
            result[setting.name] = setting.default
    if len(str(result["GATEWAY_SECRET_KEY"])) < 32:
        raise ConfigError("GATEWAY_SECRET_KEY must be at least 32 characters long")
    result.update(overrides)  # anything else tests pass (TESTING, ...)
    return result


def from_environment(overrides: Mapping[str, Any] | None = None) -> dict:
    return load(os.environ, overrides)
