import json
import sys
import time

from . import COMPONENTS, SERVERS, is_running, server_info, start, stop
from .config import NGINX_HTTP_PORT, NGINX_HTTPS_PORT, home
from .nginx import ca_pem


def _names(args: list[str]) -> list[str]:
    if not args or args == ["all"]:
        return list(COMPONENTS)
    bad = [a for a in args if a not in COMPONENTS]
    if bad:
        sys.exit(f"lab: unknown component {', '.join(bad)} (use {', '.join(COMPONENTS)} or all)")
    return args


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__ or "usage: python -m mastowizard_lab install|start|stop|status|info [rgw|ministack|nginx|sshd|all]")
        return 0
    cmd, rest = argv[0], argv[1:]
    if cmd == "install":
        from . import ministack, nginx, parsers, rgw, sshd
        for mod in (rgw, nginx, ministack, parsers, sshd):
            mod.install()
        print("lab: installed")
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
        doc = {"home": str(home()), "ca_pem": str(ca_pem()), "media_http_port": NGINX_HTTP_PORT,
               "media_https_port": NGINX_HTTPS_PORT,
               "servers": {n: server_info(n).to_dict() for n in SERVERS if is_running(n)}}
        print(json.dumps(doc, indent=2))
    else:
        sys.exit(f"lab: unknown command {cmd!r} (install, start, stop, status, info)")
    return 0


__doc__ = """usage: python -m mastowizard_lab install|start|stop|status|info [rgw|ministack|nginx|sshd|all]

The mastowizard test lab on 127.0.0.1: Ceph RGW, MiniStack (AUTH=true) and nginx as media host."""

sys.exit(main(sys.argv[1:]))
