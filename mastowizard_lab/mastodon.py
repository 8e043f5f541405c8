"""Start and stop the lab's Mastodon stand-in directly (the SSH lab's stand-ins restart it too)."""

from __future__ import annotations

import json
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from . import procs
from .config import HOST

STANDIN = Path(__file__).with_name("mastodon_standin.py")


def install() -> None:
    """What the stand-in's storage needs: Mastodon's code runs on Debian's Ruby and aws-sdk-s3."""
    from .mastodon_storage import DEBIAN_PACKAGES
    procs.ensure_debian(DEBIAN_PACKAGES)


@dataclass
class Running:
    url: str
    pidfile: Path
    log: Path

    def stop(self) -> None:
        procs.stop(self.pidfile, grace=5)


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/health", timeout=1) as r:
            return r.status == 200
    except OSError:
        return False


def start(env_file: str | Path, port: int, state: Path, tokens: dict[str, str] | None = None,
          **lab: object) -> Running:
    """Run the stand-in for ENV_FILE on 127.0.0.1:PORT; LAB options: processing_seconds, never_finish,
    base_url. TOKENS maps an access token to its scopes ("read write:media")."""
    install()
    state.mkdir(parents=True, exist_ok=True)
    config = state / "lab.json"
    config.write_text(json.dumps({"tokens": tokens or {}, **lab}))
    pidfile, log = state / "web.pid", state / "web.log"
    procs.stop(pidfile, grace=5)
    procs.spawn([sys.executable, str(STANDIN), str(env_file), str(port), str(pidfile), str(config)], log)
    url = f"http://{HOST}:{port}"
    procs.wait_for(lambda: _healthy(url), 15, "the Mastodon stand-in", log, interval=0.02)
    return Running(url, pidfile, log)
