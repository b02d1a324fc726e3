"""Talking to CoCalc: one client interface, two dialects, chosen by configuration or a probe."""

from __future__ import annotations

from .client import CoCalcClient
from .connector import CoCalcConnector, DialectMemory
from .current import CurrentClient
from .errors import (
    AccountCreationFailed,
    CoCalcAPIError,
    CoCalcError,
    CoCalcProtocolError,
    CoCalcRequestRejected,
    CoCalcTimeout,
    CoCalcUnavailable,
    CoCalcUnsupported,
)
from .v1 import V1Client

__all__ = [
    "AccountCreationFailed",
    "CoCalcAPIError",
    "CoCalcClient",
    "CoCalcConnector",
    "CoCalcError",
    "CoCalcProtocolError",
    "CoCalcRequestRejected",
    "CoCalcTimeout",
    "CoCalcUnavailable",
    "CoCalcUnsupported",
    "CurrentClient",
    "DialectMemory",
    "V1Client",
]
