"""faultdisk's Python client: the control socket (QMP) with typed helpers, and a server for tests."""

from .client import (
    Breakpoint,
    Client,
    ConnectionLost,
    Event,
    FaultdiskError,
    HeldRequest,
    NotQmp,
    QmpError,
    Timeout,
)
from .server import Server

__all__ = [
    "Breakpoint",
    "Client",
    "ConnectionLost",
    "Event",
    "FaultdiskError",
    "HeldRequest",
    "NotQmp",
    "QmpError",
    "Server",
    "Timeout",
]
