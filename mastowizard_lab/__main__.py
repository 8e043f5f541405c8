"""usage: python -m mastowizard_lab install | start|stop|status [rgw|ministack|seaweedfs|nginx|sshd|all] | info
                                 | clean [--all]

The mastowizard lab on 127.0.0.1: Ceph RGW, MiniStack (AUTH=true), nginx as the media host, and
OpenSSH's sshd with a Mastodon-style instance. `clean` stops it and removes everything it left on
the machine (users, sudoers file, state directories); `--all` also what it installed beside
Debian's packages."""

import json
import sys
import time

from . import (
    COMPONENTS,
    OTHER_SERVERS,
    SERVERS,
    install,
    is_running,
    server_info,
    start,
    stop,
)
from .config import NGINX_HTTP_PORT, NGINX_HTTPS_PORT, home


def _names(args: list[str]) -> list[str]:
    if not args or args == ["all"]:
        return list(COMPONENTS)
    bad = [a for a in args if a not in COMPONENTS]
    if bad:
        sys.exit(f"lab: unknown component {', '.join(bad)} (use {', '.join(COMPONENTS)} or all)")
    return args


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    cmd, rest = argv[0], argv[1:]
    try:
        return _run(cmd, rest)
    except RuntimeError as e:  # an install or a start that failed: its message names the log
        print(str(e), file=sys.stderr)
        return 1


def _run(cmd: str, rest: list[str]) -> int:
    if cmd == "install":
        install()
    elif cmd == "start":
        for n in _names(rest):
            t = time.monotonic()
            start(n)
            print(f"{n}: running ({time.monotonic() - t:.1f}s)")
    elif cmd == "stop":
        for n in reversed(_names(rest)):
            stop(n)
            print(f"{n}: stopped")
    elif cmd == "status":
        code = 0
        for n in _names(rest):
            up = is_running(n)
            code |= not up
            print(f"{n}: {'running' if up else 'stopped'}")
        return code
    elif cmd == "info":
        from .nginx import ca_pem
        doc = {"home": str(home()), "ca_pem": str(ca_pem()), "media_http_port": NGINX_HTTP_PORT,
               "media_https_port": NGINX_HTTPS_PORT,
               "servers": {n: server_info(n).to_dict() for n in SERVERS + OTHER_SERVERS if is_running(n)}}
        print(json.dumps(doc, indent=2))
    elif cmd == "clean":
        if rest not in ([], ["--all"]):
            sys.exit("lab: clean takes only --all")
        from .clean import clean
        removed = clean(everything=rest == ["--all"])
        print(f"lab: stopped and removed {len(removed)} item(s)" + "".join(f"\n  {r}" for r in removed))
    else:
        sys.exit(f"lab: unknown command {cmd!r} (install, start, stop, status, info, clean)")
    return 0


sys.exit(main(sys.argv[1:]))
