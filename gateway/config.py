"""Read and check the gateway's settings from the environment, once, at start-up."""

from __future__ import annotations

import ipaddress
import os
import re
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
    #: Bounds of a number (inclusive), checked at start-up.
    minimum: float | None = None
    maximum: float | None = None


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
    Setting(
        "COCALC_TIMEOUT", "Seconds to wait for any CoCalc call", 10.0, kind="float", minimum=0.1
    ),
    Setting(
        "COCALC_PROBE_TIMEOUT",
        "Seconds each probe of the dialect may take (auto only; never holds up a request)",
        3.0,
        kind="float",
        minimum=0.1,
    ),
    Setting(
        "COCALC_RETRIES",
        "Retries of calls that are safe to repeat",
        2,
        kind="int",
        minimum=0,
        maximum=10,
    ),
    Setting(
        "COCALC_REGISTRATION_TOKEN", "CoCalc registration token, if sign-up needs one", secret=True
    ),
    Setting("COCALC_ORGANIZATION", "Organization name: create users with org.createUser"),
    Setting(
        "COCALC_SAMESITE_REMEMBER_ME",
        "CoCalc's site setting samesite_remember_me: strict (its default) or none",
        "strict",
        kind="choice",
        choices=("strict", "none"),
    ),
    Setting("DATABASE_URL", "SQLAlchemy URL; default: SQLite in the instance folder"),
    Setting(
        "GATEWAY_DB_CONNECTIONS",
        "PostgreSQL connections one gateway process opens at most (3/4 for transactions "
        "and locks, 1/4 for single statements)",
        16,
        kind="int",
        minimum=4,
    ),
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
        "GATEWAY_TOKEN_MARGIN",
        "Seconds of life a cached token must have left (less than API v1's 12 h)",
        3600,
        kind="int",
        minimum=0,
        maximum=12 * 3600 - 60,
    ),
    Setting(
        "GATEWAY_EMBED_LIFETIME",
        "Seconds an embed page works (0: the token's life)",
        0,
        kind="int",
        minimum=0,
    ),
    Setting(
        "GATEWAY_PROJECT_START_INTERVAL",
        "Seconds after which a launch asks CoCalc to start the project again (in the background)",
        600,
        kind="int",
        minimum=0,
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
        minimum=1000,
    ),
    Setting(
        "GATEWAY_OPEN_TIMEOUT_MS",
        "How long the embed page tries, in all, to get its file open in CoCalc",
        60000,
        kind="int",
        minimum=1000,
    ),
    Setting(
        "GATEWAY_OPEN_RETRY_MS",
        "After this long without the file open, the embed page asks for the project to be "
        "started again and tries once more",
        15000,
        kind="int",
        minimum=1000,
    ),
    Setting(
        "GATEWAY_HOUSEKEEPING_INTERVAL",
        "Seconds between housekeeping runs in each process (0: only `cocalc-gateway "
        "housekeeping`, e.g. from cron)",
        300,
        kind="int",
        minimum=0,
    ),
    Setting(
        "GATEWAY_PROXY_FIX",
        "Number of trusted reverse proxies in front (X-Forwarded-*)",
        0,
        kind="int",
        minimum=0,
        maximum=5,
    ),
    Setting(
        "GATEWAY_TRUSTED_PROXIES",
        "Networks of those proxies: X-Forwarded-* from anyone else is ignored",
        "127.0.0.1/32,::1/128",
        kind="networks",
    ),
    Setting(
        "LTI_KEY_SET_REFRESH_FLOOR",
        "Seconds between two fetches of one LMS's key set when tokens name unknown keys",
        60,
        kind="int",
        minimum=0,
    ),
    Setting(
        "LTI_CLOCK_LEEWAY",
        "Seconds of clock difference allowed in an LMS's id_token (exp, iat)",
        60,
        kind="int",
        minimum=0,
        maximum=300,
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
    if len(str(result["GATEWAY_SECRET_KEY"])) < 32:
        raise ConfigError("GATEWAY_SECRET_KEY must be at least 32 characters long")
    if not DOMAIN.match(str(result["GATEWAY_EMAIL_DOMAIN"])):
        raise ConfigError("GATEWAY_EMAIL_DOMAIN must be a domain like users.example.invalid")
    if int(result["GATEWAY_OPEN_RETRY_MS"]) > int(result["GATEWAY_OPEN_TIMEOUT_MS"]):
        raise ConfigError("GATEWAY_OPEN_RETRY_MS must not be more than GATEWAY_OPEN_TIMEOUT_MS")
    token = result.get("GATEWAY_METRICS_TOKEN")
    if token and len(str(token)) < 16:
        raise ConfigError("GATEWAY_METRICS_TOKEN must be at least 16 characters long")


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
            if not is_text and setting.kind in ("int", "float"):
                value = check_bounds(setting, value)
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
    check_together(result)
    result.update(overrides)  # anything else tests pass (TESTING, ...)
    return result


def from_environment(overrides: Mapping[str, Any] | None = None) -> dict:
    return load(os.environ, overrides)
