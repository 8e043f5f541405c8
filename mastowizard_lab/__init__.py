"""The test lab: real S3 servers (Ceph RGW, MiniStack) and nginx as the media host, on 127.0.0.1.

    python -m mastowizard_lab start [rgw|ministack|nginx|all]
    python -m mastowizard_lab stop [...] | status | info
"""

from __future__ import annotations

from .info import ServerInfo

SERVERS = ("rgw", "ministack")
COMPONENTS = ("rgw", "ministack", "nginx", "sshd")


def _module(name: str):
    from . import ministack, nginx, rgw, sshd
    return {"rgw": rgw, "ministack": ministack, "nginx": nginx, "sshd": sshd}[name]


def start(name: str) -> ServerInfo | None:
    """Start one component if it is not running (idempotent); servers return their ServerInfo."""
    mod = _module(name)
    result = mod.start()
    return result if name in SERVERS else None


def stop(name: str) -> None:
    _module(name).stop()


def is_running(name: str) -> bool:
    return _module(name).is_running()


def server_info(name: str) -> ServerInfo:
    return _module(name).info()


__all__ = ["ServerInfo", "SERVERS", "COMPONENTS", "start", "stop", "is_running", "server_info"]
