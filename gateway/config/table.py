"""Every setting of the gateway: its name, what it means, its default and its kind."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


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
        "GATEWAY_OUTBOUND_ALLOW",
        "Comma-separated host names and networks of internal LMSs and identity providers the "
        "gateway may call (private, loopback and link-local addresses are refused otherwise, "
        "unless GATEWAY_PUBLIC_URL itself is on loopback)",
        "",
    ),
    Setting(
        "GATEWAY_OUTBOUND_DEADLINE",
        "Seconds one call to an LMS or identity provider may take in all",
        5.0,
        kind="float",
        minimum=0.5,
        maximum=60,
    ),
    Setting(
        "GATEWAY_LOGIN_RATE_LIMIT",
        "Sign-ins (LTI and SSO logins) one client address may start per minute",
        300,
        kind="int",
        minimum=1,
    ),
    Setting(
        "GATEWAY_LOGINS_PER_HOST",
        "Verified sign-ins one host may have in 10 minutes (an LTI launch whose id_token checked "
        "out, an SSO callback the provider confirmed); logins nobody verified never count",
        20000,
        kind="int",
        minimum=1,
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
