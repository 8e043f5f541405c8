"""`mastowizard web`: the wizard in a browser page, behind this launch's secret, the Host and Origin
checks and one session at a time; on 127.0.0.1 only; its wizards stop with it. The screen is read
back from the websocket stream with pyte (the page draws it on a canvas), and the demo is walked in
headless Chromium (Debian's, driven by Playwright)."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]


class Web:
    """A `mastowizard web` server in a process of its own on a free port (--port 0), and the URL it
    printed: printed once the port listens, so it is used at once."""

    def __init__(self, tmp_path: Path, *args: str, timeout: float = 60):
        env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config")}
        self.proc = subprocess.Popen([sys.executable, "-m", "screens.launch", "web", "--port", "0", *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                                     cwd=tmp_path, start_new_session=True)
        self.lines: list[str] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise AssertionError(f"mastowizard web ended: {self.proc.stderr.read()}")
            self.lines.append(line.rstrip("\n"))
            if line.startswith("http"):
                break
        self.url = self.lines[-1]
        self.port = int(re.match(r"http://127\.0\.0\.1:(\d+)/", self.url)[1])
        self.key = self.url.split("key=")[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.lines.append(self.proc.stdout.readline().rstrip("\n"))     # how to reach it through SSH

    def ws_url(self, key: str | None = None, width: int = 100, height: int = 32) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/{key or self.key}?width={width}&height={height}"

    def connect(self, session):
        """The wizard's websocket as this server's own page opens it (its secret, its Origin)."""
        return session.ws_connect(self.ws_url(), headers={"Origin": self.base})

    def children(self) -> list[int]:
        found = []
        for task in Path(f"/proc/{self.proc.pid}/task").iterdir():
            found += [int(p) for p in (task / "children").read_text().split()]
        return found

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


@pytest.fixture
def web(tmp_path):
    servers = []

    def start(*args: str, timeout: float = 60) -> Web:
        servers.append(Web(tmp_path, *args, timeout=timeout))
        return servers[-1]
    yield start
    for s in servers:
        s.stop()


async def _screen(url: str, origin: str, until: str, timeout: float = 30, settle: float = 1.0) -> str:
    """Open the websocket and feed the terminal stream to pyte until UNTIL shows and SETTLE seconds
    more have passed (Textual paints a screen over several frames); the screen's text."""
    import aiohttp
    import pyte
    screen = pyte.Screen(100, 32)
    stream = pyte.ByteStream(screen)
    async with aiohttp.ClientSession() as session, session.ws_connect(url, headers={"Origin": origin}) as ws:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                msg = await ws.receive(timeout=0.2)
            except TimeoutError:
                msg = None
            if msg is not None and msg.type == aiohttp.WSMsgType.BINARY:
                stream.feed(msg.data)
            elif msg is not None and msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                break
            if until in "\n".join(screen.display):
                deadline = min(deadline, time.monotonic() + settle)
        return "\n".join(screen.display)


def _handshake_status(url: str, origin: str | None) -> int:
    import aiohttp

    async def go():
        async with aiohttp.ClientSession() as session:
            try:
                async with session.ws_connect(url, headers={"Origin": origin} if origin else {}):
                    return 101
            except aiohttp.WSServerHandshakeError as e:
                return e.status
    return asyncio.run(go())


def test_nothing_answers_without_this_launchs_secret(web):
    w = web()
    assert w.url == f"http://127.0.0.1:{w.port}/?key={w.key}" and len(w.key) >= 30
    assert w.lines[-1].startswith(f"from your laptop: ssh -N -L {w.port}:127.0.0.1:{w.port} "), w.lines
    for path in ("/", "/?key=", "/?key=wrong", f"/?key={w.key[:-1]}", "/download/x", "/anything?key=wrong"):
        r = httpx.get(w.base + path)
        assert r.status_code == 403 and "open the URL mastowizard web printed" in r.text, (path, r.status_code)
    for key in ("wrong", w.key[:-1] + "A"):
        assert _handshake_status(w.ws_url(key), w.base) == 403
    page = httpx.get(w.url)
    assert page.status_code == 200 and "<title>mastowizard</title>" in page.text
    assert page.headers["cache-control"] == "no-store" and page.headers["referrer-policy"] == "no-referrer"
    # nothing from the internet: every asset is this server's, the font included
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text) + re.findall(r'url\("([^"]+)"\)', page.text)
    assert assets and all(a.startswith("/static/") for a in assets), assets
    assert "googleapis" not in page.text and "default-src 'self'" in page.headers["content-security-policy"]
    assert f'data-session-websocket-url="ws://127.0.0.1:{w.port}/ws/{w.key}"' in page.text
    for asset in assets:
        assert httpx.get(w.base + asset).status_code == 200, asset        # static files need no secret
    assert httpx.get(w.base + "/static/").status_code != 200             # and are not listed


def test_a_foreign_origin_or_host_name_is_refused(web):
    w = web()
    assert _handshake_status(w.ws_url(), "http://evil.example") == 403
    assert _handshake_status(w.ws_url(), f"http://evil.example:{w.port}") == 403
    assert _handshake_status(w.ws_url(), None) == 403
    # DNS rebinding: a name that points at 127.0.0.1 is still not this server's
    r = httpx.get(w.url, headers={"Host": f"rebind.example:{w.port}"})
    assert r.status_code == 403 and "host name" in r.text
    # the names a browser on this machine (or through an SSH tunnel) uses are
    for host in (f"localhost:{w.port}", f"127.0.0.1:{w.port}", "localhost:9000"):
        assert httpx.get(w.url, headers={"Host": host}).status_code == 200, host


def test_the_wizard_shows_in_the_stream_and_the_flags_reach_it(web, tmp_path):
    w = web("--ssh", "admin@127.0.0.1:1", "--env-file", "/srv/mastodon/live/.env.production")
    text = asyncio.run(_screen(w.ws_url(), w.base, "Where does Mastodon run?"))
    assert "1 Target" in text and "admin@127.0.0.1:1" in text and "/srv/mastodon/live/.env.production" in text
    assert "right-click" in text                         # how to paste in a browser, said on arrival
    assert not (tmp_path / "config" / "mastowizard" / "profile.json").exists()   # nothing saved by a look


def test_one_wizard_at_a_time_unless_asked(web):
    w = web()

    async def two():
        import aiohttp
        async with aiohttp.ClientSession() as session, w.connect(session) as first:
            await first.receive(timeout=30)
            async with session.get(f"{w.base}/state?key={w.key}") as r:
                assert await r.json() == {"open": 1, "max": 1}      # what the page shows a refused tab
            async with session.get(f"{w.base}/state") as r:
                assert r.status == 403
            try:
                async with w.connect(session):
                    return 101
            except aiohttp.WSServerHandshakeError as e:
                return e.status
    assert asyncio.run(two()) == 409
    assert "1 Target" in asyncio.run(_screen(w.ws_url(), w.base, "1 Target"))     # the first one closed: free again
    w2 = web("--sessions", "2")

    async def both():
        import aiohttp
        async with aiohttp.ClientSession() as session, w2.connect(session), w2.connect(session) as second:
            return (await second.receive(timeout=30)).type
    import aiohttp
    assert asyncio.run(both()) == aiohttp.WSMsgType.BINARY


def test_it_listens_on_loopback_only_and_refuses_other_addresses_without_the_flag(web, tmp_path):
    w = web()
    listening = subprocess.run(["ss", "-Hltn", f"sport = :{w.port}"], capture_output=True, text=True).stdout.split("\n")
    addresses = [line.split()[3] for line in listening if line.strip()]
    assert addresses == [f"127.0.0.1:{w.port}"], addresses
    for args, flag in ((["--host", "0.0.0.0"], "--host"), (["--host", "::"], "--host"),
                       (["--host", "mastodon.example"], "--host"), (["--port", "99999"], "--port"),
                       (["--sessions", "0"], "--sessions"), (["--ssh", ""], "--ssh"),
                       (["--public-url", "ftp://x"], "--public-url")):
        r = subprocess.run([sys.executable, "-m", "screens.launch", "web", *args], capture_output=True, text=True,
                           timeout=30, cwd=tmp_path)
        lines = r.stderr.strip().splitlines()
        assert r.returncode == 2 and len(lines) == 1 and flag in lines[0] and "Traceback" not in r.stderr, (args, r)
        assert r.stdout == ""


def test_stopping_the_server_stops_its_wizards(web):
    w = web()

    async def open_and_stop():
        import aiohttp
        async with aiohttp.ClientSession() as session, w.connect(session) as ws:
            await ws.receive(timeout=30)
            wizards = w.children()
            assert wizards and all("screens.served" in Path(f"/proc/{p}/cmdline").read_text() for p in wizards)
            w.proc.send_signal(signal.SIGTERM)
            await asyncio.get_running_loop().run_in_executor(None, w.proc.wait, 20)
            return wizards
    wizards = asyncio.run(open_and_stop())
    assert w.proc.returncode is not None
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(Path(f"/proc/{p}").exists() for p in wizards):
        time.sleep(0.2)
    assert not [p for p in wizards if Path(f"/proc/{p}").exists()]


CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.mark.lab
def test_the_demo_in_headless_chromium_walks_target_and_provider(web, tmp_path):
    if not shutil.which("chromium"):
        from mastowizard_lab import procs
        procs.ensure_debian(["chromium"], ["chromium"])
    import pyte
    from playwright.sync_api import sync_playwright
    w = web("--demo", timeout=240)
    screens: dict[str, pyte.Screen] = {}
    requests: list[str] = []

    def on_websocket(ws):
        size = dict(re.findall(r"(width|height)=(\d+)", ws.url))
        screen = screens.setdefault("s", pyte.Screen(int(size["width"]), int(size["height"])))
        stream = pyte.ByteStream(screen)
        ws.on("framereceived", lambda payload: stream.feed(payload) if isinstance(payload, bytes) else None)

    def shown() -> str:
        return "\n".join(screens["s"].display) if screens else ""

    def wait_for(page, *texts: str, timeout: float = 90) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = shown()
            if any(t in text for t in texts):
                return text
            page.wait_for_timeout(200)
        raise AssertionError(f"none of {texts} on screen:\n{shown()}")

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 720})
            page.on("request", lambda r: requests.append(r.url))
            page.on("websocket", on_websocket)
            page.goto(w.url)
            page.wait_for_selector("body.-first-byte", timeout=120_000)
            assert page.title() == "mastowizard"
            wait_for(page, "Where does Mastodon run?")
            page.click("#terminal")
            page.keyboard.press("Alt+r")          # 1 Target: read the demo instance (the browser keeps ctrl+r)
            wait_for(page, "media storage: local disk")
            page.keyboard.press("Alt+n")
            wait_for(page, "Provider, bucket and the writer key")
            page.keyboard.press("Alt+r")                            # 2 Provider: the probes, live
            text = wait_for(page, "every probe passed", "probe(s) failed", timeout=120)
            assert "Writer credential is valid" in text, text
            page.wait_for_timeout(500)
            shot = tmp_path / "web-provider.png"
            page.screenshot(path=str(shot))
            assert shot.stat().st_size > 20_000 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
            if os.environ.get("MASTOWIZARD_SCREENSHOTS"):           # docs/web.md's picture, taken on request
                shutil.copy(shot, ROOT / "docs" / "img" / "web-provider.png")
            # a second tab, while this wizard is open, is told why it gets none
            other = browser.new_page()
            other.goto(w.url)
            deadline = time.monotonic() + 30          # (no page-side eval: the page's CSP forbids it)
            while "Another wizard is open" not in (other.text_content("#ended") or ""):
                assert time.monotonic() < deadline, other.text_content("#ended")
                other.wait_for_timeout(200)
        finally:
            browser.close()
    origins = {re.match(r"^(\w+://[^/]+)", u)[1] for u in requests}
    assert origins == {f"http://127.0.0.1:{w.port}"}, origins     # the page loaded nothing from elsewhere


def test_the_terminal_wizard_takes_the_same_flags(tmp_path):
    from mastowizard.session import Answers
    from screens.args import apply, to_argv, wizard_parser
    argv = ["--ssh", "admin@mastodon.example:2222", "--sudo-user", "mastodon",
            "--env-file", "/srv/live/.env.production",
            "--instance", "https://mastodon.example", "--resolve", "files.example:443:127.0.0.1"]
    parsed = wizard_parser().parse_args(argv)
    a = apply(Answers(bucket="from-the-profile"), parsed)
    assert (a.target, a.ssh, a.sudo_user, a.env_file, a.instance, a.resolve, a.bucket) == (
        "ssh", "admin@mastodon.example:2222", "mastodon", "/srv/live/.env.production", "https://mastodon.example",
        ["files.example:443:127.0.0.1"], "from-the-profile")
    assert wizard_parser().parse_args(to_argv(parsed)) == parsed       # what `web` hands its wizards
    # without a terminal, or with a bad flag: one line, exit 2
    for args, needle in ((["--ssh", "x"], "needs a terminal"), (["wizard", "--ssh", ""], "--ssh"),
                         (["wizard", "--bogus"], "usage")):
        r = subprocess.run([sys.executable, "-m", "screens.launch", *args], capture_output=True, text=True,
                           stdin=subprocess.DEVNULL, timeout=30, cwd=tmp_path)
        assert r.returncode == 2 and needle in r.stderr and len(r.stderr.strip().splitlines()) == 1, (args, r)
