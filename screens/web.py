"""`mastowizard web`: the same wizard in a browser page, served with textual-serve, safe by default.

textual-serve has no authentication and no Origin check, and every websocket starts a new wizard
process running as this server's user. So this server:
- binds 127.0.0.1 unless --allow-remote says otherwise (with a warning);
- makes a random secret per launch, carried in the printed URL: the page without it, and the
  websocket without it (in its path), answer 403; only the package's static files are served without;
- checks the Host header (a loopback name, the bound address or --public-url's host: DNS
  rebinding), and the websocket's Origin against the host the page was served from;
- runs at most one wizard at a time unless --sessions says more;
- stops its wizard processes when it stops;
- logs no request line (the secret is in the URL) and serves a page that loads nothing from the
  internet (the font is textual-serve's own)."""

from __future__ import annotations

import argparse
import asyncio
import hmac
import ipaddress
import secrets
import shlex
import signal
import socket
import sys
from pathlib import Path
from urllib.parse import urlsplit

from mastowizard.argv import Parser as _Parser
from mastowizard.errors import InputError

from .args import add_wizard_options, to_argv

DEFAULT_PORT = 8000
LOOPBACK_NAMES = {"127.0.0.1", "localhost", "::1"}
TEMPLATE = Path(__file__).with_name("templates") / "web_index.html"


def parser() -> argparse.ArgumentParser:
    p = _Parser(prog="mastowizard web", description="The wizard in a browser page (textual-serve). It listens on "
                "127.0.0.1 only, unless --allow-remote; open the URL it prints, which holds this launch's secret.")
    p.add_argument("--host", default="127.0.0.1", metavar="ADDR", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", default=str(DEFAULT_PORT), metavar="PORT", help=f"default {DEFAULT_PORT}; 0: any free "
                   "port (the URL printed names it)")
    p.add_argument("--allow-remote", action="store_true",
                   help="allow --host to be an address other machines reach (plain http: prefer an SSH tunnel)")
    p.add_argument("--public-url", metavar="URL",
                   help="the URL browsers use when it is not http://HOST:PORT (e.g. through a proxy)")
    p.add_argument("--sessions", default="1", metavar="N", help="wizards open at once (default 1)")
    p.add_argument("--demo", action="store_true", help="the wizard against the embedded demo lab (as root)")
    add_wizard_options(p)
    return p


class Options:
    """The checked options: one line naming the flag and the fix for anything wrong."""

    def __init__(self, args: argparse.Namespace):
        self.host = _bind_address(args.host, args.allow_remote)
        self.port = _number("--port", args.port, 0, 65535)      # 0: any free port, printed once bound
        self.sessions = _number("--sessions", args.sessions, 1, 100)
        self.loopback = ipaddress.ip_address(self.host).is_loopback
        self.allowed_hosts = set(LOOPBACK_NAMES) if self.loopback else {self.host}
        self.public_url = None
        if args.public_url:
            parts = urlsplit(args.public_url)
            if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.query:
                raise InputError("--public-url", f"{args.public_url!r} is not an http(s) URL of a host",
                                 "give it as https://wizard.example:8443")
            self.public_url = args.public_url.rstrip("/")
            self.allowed_hosts.add(parts.hostname)
        self.secret = secrets.token_urlsafe(24)
        self.wizard = [sys.executable, "-m", "screens.served"] + (["--demo"] if args.demo else []) + to_argv(args)

    @property
    def url(self) -> str:
        """Where the page is: --public-url, else the bound address and port."""
        shown = f"[{self.host}]" if ":" in self.host else self.host
        return self.public_url or f"http://{shown}:{self.port}"

    @property
    def command(self) -> str:
        """The wizard process textual-serve starts (through a shell: `exec`, so it is that process)."""
        return "exec " + shlex.join(self.wizard)


def _number(flag: str, value: str, low: int, high: int) -> int:
    try:
        n = int(value)
    except ValueError:
        n = -1
    if not low <= n <= high:
        raise InputError(flag, f"{value!r} is not a number from {low} to {high}",
                         f"give {flag} {low if low > 1 else 8000}")
    return n


def _bind_address(host: str, allow_remote: bool) -> str:
    name = "127.0.0.1" if host == "localhost" else host.strip("[]")
    try:
        ip = ipaddress.ip_address(name)
    except ValueError:
        raise InputError("--host", f"{host!r} is not an IP address", "give 127.0.0.1 (the default), or an "
                         "address of this machine with --allow-remote") from None
    if not ip.is_loopback and not allow_remote:
        raise InputError("--host", f"{host} is reachable from other machines, and the wizard has your keys",
                         "keep 127.0.0.1 and use an SSH tunnel (see `mastowizard web --help`), or add "
                         "--allow-remote if you mean it")
    return str(ip)


class GuardedServer:
    """textual-serve's AppService behind the secret, Host, Origin and session checks."""

    def __init__(self, options: Options, out=None):
        self.o = options
        self.out = out or sys.stdout
        self.services: set = set()
        self._page = None                # the page's template, compiled once

    # -- checks -------------------------------------------------------------------------
    def _host_ok(self, request) -> bool:
        host = (request.host or "").rsplit(":", 1)[0] if not (request.host or "").startswith("[") \
            else request.host[1:].split("]")[0]
        return host in self.o.allowed_hosts

    def _secret_ok(self, given: str | None) -> bool:
        return bool(given) and hmac.compare_digest(given.encode(), self.o.secret.encode())

    def _origin_ok(self, request) -> bool:
        """The page that opens the websocket was served by this server, under the name it used."""
        origin = request.headers.get("Origin", "")
        scheme = "https" if self.o.url.startswith("https") else "http"
        same = {f"{scheme}://{request.host}", f"http://{request.host}"}
        public = urlsplit(self.o.url)
        same.add(f"{public.scheme}://{public.netloc}")
        return origin in same

    def _middleware(self):
        from aiohttp import web

        @web.middleware
        async def guard(request, handler):
            if not self._host_ok(request):
                raise web.HTTPForbidden(text="mastowizard web: this host name is not served here\n")
            if request.path.startswith("/static/"):
                return await handler(request)
            given = request.match_info.get("secret") if request.path.startswith("/ws/") else request.query.get("key")
            if not self._secret_ok(given):
                raise web.HTTPForbidden(text="mastowizard web: open the URL mastowizard web printed (it holds "
                                             "this launch's secret)\n")
            response = await handler(request)
            response.headers.setdefault("Cache-Control", "no-store")
            response.headers.setdefault("Referrer-Policy", "no-referrer")
            return response
        return guard

    # -- handlers -----------------------------------------------------------------------
    async def index(self, request):
        import jinja2
        from aiohttp import web
        scheme = "wss" if self.o.url.startswith("https") else "ws"
        if self._page is None:
            self._page = jinja2.Template(TEMPLATE.read_text(), autoescape=True)
        page = self._page.render(
            static="/static/", websocket_url=f"{scheme}://{request.host}/ws/{self.o.secret}", key=self.o.secret,
            font_size=_bounded_int(request.query.get("fontsize"), 16, 6, 64))
        return web.Response(text=page, content_type="text/html",
                            headers={"Content-Security-Policy": "default-src 'self'; "
                                     "connect-src 'self' ws: wss:; style-src 'self' 'unsafe-inline'; "
                                     "script-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                                     "font-src 'self'; frame-ancestors 'none'"})

    async def state(self, request):
        """How many wizards are open, for the page to say why a session was refused."""
        from aiohttp import web
        return web.json_response({"open": len(self.services), "max": self.o.sessions})

    async def websocket(self, request):
        from aiohttp import WSMsgType, web
        from textual_serve.app_service import AppService
        from textual_serve.download_manager import DownloadManager

        if not self._origin_ok(request):
            raise web.HTTPForbidden(text="mastowizard web: the page opening the wizard is not this server's\n")
        if len(self.services) >= self.o.sessions:
            raise web.HTTPConflict(text=f"mastowizard web: {len(self.services)} wizard(s) open already; close "
                                        "it, or start mastowizard web with --sessions N\n")
        ws = web.WebSocketResponse(heartbeat=15)
        await ws.prepare(request)
        width, height = _terminal_size(request.query.get("width"), request.query.get("height"))
        service = AppService(self.o.command, write_bytes=ws.send_bytes, write_str=ws.send_str, close=ws.close,
                             download_manager=DownloadManager(), debug=False)
        self.services.add(service)
        try:
            await service.start(width, height)
            async for message in ws:
                if message.type != WSMsgType.TEXT:
                    continue
                try:
                    kind, *data = message.json()
                except (ValueError, TypeError):
                    continue
                if kind == "stdin" and data and isinstance(data[0], str):
                    await service.send_bytes(data[0].encode("utf-8"))
                elif kind == "resize" and data and isinstance(data[0], dict):
                    await service.set_terminal_size(*_terminal_size(str(data[0].get("width")),
                                                                    str(data[0].get("height"))))
                elif kind == "ping" and data:
                    await ws.send_json(["pong", data[0]])
                elif kind == "blur":
                    await service.blur()
                elif kind == "focus":
                    await service.focus()
        finally:
            await self._stop(service)
        return ws

    async def _stop(self, service) -> None:
        """Ask the wizard to quit; kill it if it has not ended a few seconds later."""
        self.services.discard(service)
        try:
            await asyncio.wait_for(service.stop(), 5)
        except (TimeoutError, Exception):  # noqa: BLE001 - it is killed below
            pass
        process = getattr(service, "_process", None)
        if process is not None and process.returncode is None:
            process.kill()
            await process.wait()

    async def on_shutdown(self, app) -> None:
        await asyncio.gather(*(self._stop(s) for s in list(self.services)), return_exceptions=True)

    def make_app(self):
        import textual_serve
        from aiohttp import web
        statics = Path(textual_serve.__file__).parent / "static"
        app = web.Application(middlewares=[self._middleware()])
        app.add_routes([web.get("/", self.index), web.get("/state", self.state),
                        web.get("/ws/{secret}", self.websocket),
                        web.static("/static", statics, show_index=False)])
        app.on_shutdown.append(self.on_shutdown)
        return app

    # -- running ------------------------------------------------------------------------
    def banner(self) -> list[str]:
        o = self.o
        lines = [f"mastowizard web: the wizard on {o.host}:{o.port}, {o.sessions} session(s) at a time; "
                 "ctrl+c stops it (and its wizards)", "open this URL (it holds this launch's secret):",
                 f"{o.url}/?key={o.secret}"]
        if o.loopback:
            lines.append(f"from your laptop: ssh -N -L {o.port}:127.0.0.1:{o.port} YOU@THIS-HOST, then open the URL "
                         "above there (with another local port, change the port in the URL)")
        else:
            lines.append(f"WARNING: {o.host} is reachable from other machines over plain http: anyone who has the URL "
                         "gets a wizard running as this user, with its files and keys. Prefer 127.0.0.1 and an SSH "
                         "tunnel.")
        return lines

    def serve(self) -> None:
        from aiohttp import web
        from aiohttp.web_runner import GracefulExit

        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)

        def leave():
            raise GracefulExit()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, leave)

        # Bound here, before anything is printed: the URL is printed once the port listens (a client
        # that connects as soon as it reads it is served), and with --port 0 it names the free port
        # the system gave. A port already taken fails here, before any banner.
        sock = socket.socket(socket.AF_INET6 if ":" in self.o.host else socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.o.host, self.o.port))
            sock.listen(128)
        except OSError:
            sock.close()
            raise
        self.o.port = sock.getsockname()[1]

        def announce(_aiohttp_says: str) -> None:       # run_app calls it once its site serves
            for line in self.banner():
                print(line, file=self.out, flush=True)
        web.run_app(self.make_app(), sock=sock, handle_signals=False, loop=loop, access_log=None, print=announce,
                    shutdown_timeout=10)


def _terminal_size(width: str | None, height: str | None) -> tuple[int, int]:
    """The browser's terminal size, within bounds (80x24 for anything else)."""
    return _bounded_int(width, 80, 20, 500), _bounded_int(height, 24, 10, 300)


def _bounded_int(value: str | None, default: int, low: int, high: int) -> int:
    try:
        n = int(value or "")
    except ValueError:
        return default
    return n if low <= n <= high else default


def main(argv: list[str]) -> int:
    try:
        args = parser().parse_args(argv)
        options = Options(args)
        if args.demo:
            from mastowizard_lab import demo as lab_demo
            lab_demo.prepare()            # installs and starts the lab once, here, a line each
    except InputError as e:
        print(f"mastowizard web: {e}", file=sys.stderr)
        return 2
    except Exception as e:  # noqa: BLE001 - the demo lab's failure as one line
        print(f"mastowizard web: the demo lab did not start: {e}", file=sys.stderr)
        return 2
    try:
        GuardedServer(options).serve()
    except OSError as e:
        print(f"mastowizard web: cannot listen on {options.host}:{options.port}: {e.strerror or e} "
              "(another program has the port? give --port)", file=sys.stderr)
        return 2
    return 0
