"""How much a directory on the host holds."""

from __future__ import annotations

from .interface import Host


def disk_usage(host: Host, path: str, timeout: float = 600) -> int | None:
    """Bytes under PATH on HOST (`du -sb`), or None where it cannot be measured."""
    try:
        r = host.run(["du", "-sb", path], timeout=timeout)
    except Exception:  # noqa: BLE001 - a size is shown, never needed
        return None
    return int(r.stdout.split()[0]) if r.ok and r.stdout.strip() else None
