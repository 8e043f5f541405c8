"""Where the lab lives and which loopback ports it uses (all outside 6800-7300, Ceph OSD's range)."""

from __future__ import annotations

import os
from pathlib import Path

HOST = "127.0.0.1"


def home() -> Path:
    return Path(os.environ.get("MASTOWIZARD_LAB_DIR") or Path.home() / ".cache" / "mastowizard-lab")


def tools() -> Path:
    """What the lab installed beside Debian's packages (MiniStack's venv, Node's dotenv) and the install
    log: kept by `clean`, which removes only the lab's state, unless told to remove everything."""
    return home() / "tools"


def install_log() -> Path:
    return tools() / "install.log"


def port(name: str, default: int) -> int:
    return int(os.environ.get(f"MASTOWIZARD_LAB_{name}_PORT", default))


RGW_PORT = port("RGW", 17480)
MON_PORT = port("MON", 17300)
MINISTACK_PORT = port("MINISTACK", 17566)
NGINX_HTTP_PORT = port("NGINX_HTTP", 17080)
NGINX_HTTPS_PORT = port("NGINX_HTTPS", 17443)

REGION = "us-east-1"
MEDIA_ZONE = "media.test"          # BUCKET.SERVER.media.test is the media host of BUCKET on SERVER
EXTRA_ZONE = "lab.test"            # fixed names for sites added under nginx/sites/
