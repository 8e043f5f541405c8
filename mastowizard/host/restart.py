"""Find how Mastodon runs on the host (systemd units or Docker Compose), restart it so it reads the
new env file, and wait until it is healthy, naming the service that is not."""

from __future__ import annotations

import json
import posixpath
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from ..errors import InputError, TargetError
from ..net import HttpOptions, describe_error
from ..net import client as http_client
from ..results import Check
from .interface import Host

SYSTEMD_UNITS = ("mastodon-web", "mastodon-sidekiq", "mastodon-streaming")
COMPOSE_SERVICES = ("web", "sidekiq", "streaming")
COMPOSE_FILES = ("docker-compose.yml", "docker-compose.yaml", "compose.yml", "compose.yaml")


@dataclass
class Install:
    kind: str                      # systemd | compose
    services: list[str]            # unit names, or compose service names
    compose_file: str | None = None
    notes: list[str] = field(default_factory=list)

    def describe(self) -> str:
        where = f" ({self.compose_file})" if self.compose_file else ""
        return f"{self.kind}{where}: {', '.join(self.services)}"


def _exists(host, path: str) -> bool:
    try:
        return host.exists(path)
    except Exception:  # noqa: BLE001 - an unreadable place is not where Mastodon runs
        return False


def locate_env_file(host: Host, default: str) -> str:
    """The env file of the Mastodon that runs: the mastodon-web unit's WorkingDirectory/.env.production
    when there is one, else DEFAULT (a Compose install, or no unit: reading it explains). The unit
    wins over a file at the default place, which may be an old or another install's."""
    try:
        r = host.run(["systemctl", "show", "mastodon-web", "-p", "WorkingDirectory", "--value"], timeout=30)
    except Exception:  # noqa: BLE001 - no systemd here: keep the default and let reading it explain
        return default
    directory = r.stdout.decode().strip()
    if r.ok and directory.startswith("/"):
        candidate = posixpath.join(directory, ".env.production")
        if _exists(host, candidate):
            return candidate
    return default


def detect(host: Host, env_file: str, prefer: str | None = None,
           compose_dir: str | None = None) -> Install:
    """systemd when mastodon-* units exist, Compose when a compose file with a web service sits in the
    live directory (or --compose DIR). PREFER ('systemd' or 'compose') overrides the guess."""
    if prefer == "compose" or compose_dir:
        return _compose(host, compose_dir or posixpath.dirname(env_file))
    if prefer != "systemd":
        live = posixpath.dirname(env_file)
        if any(_exists(host, posixpath.join(live, f)) for f in COMPOSE_FILES):
            return _compose(host, live)
    r = host.run(["systemctl", "list-units", "--all", "--type=service", "--no-legend", "--plain",
                    "mastodon-*"], timeout=30)
    units = sorted({m.group(1) for m in re.finditer(r"^\s*(mastodon-[\w@.-]+?)(?:\.service)?\s", r.stdout.decode(),
                                                   re.MULTILINE)})
    if not units:
        if prefer == "systemd":
            raise TargetError("systemd", "no mastodon-* units found", "give --compose DIR for a Docker install")
        raise TargetError("install", "found neither mastodon-* systemd units nor a compose file beside "
                          f"{env_file}", "say which with --systemd or --compose DIR")
    notes = [f"no {u} unit" for u in ("mastodon-web", "mastodon-sidekiq")
             if u not in units and not any(x.startswith(u + "@") for x in units)]
    if not any(u.startswith("mastodon-streaming") for u in units):
        notes.append("no mastodon-streaming unit")
    return Install("systemd", units, notes=notes)


def _compose(host, directory: str) -> Install:
    for name in COMPOSE_FILES:
        path = posixpath.join(directory, name)
        if _exists(host, path):
            text = host.read_bytes(path).decode("utf-8", "replace")
            services = [s for s in COMPOSE_SERVICES if re.search(rf"^\s+{s}:\s*$", text, re.MULTILINE)]
            if "web" not in services:
                raise TargetError(path, "has no web service", "give the directory of Mastodon's compose file")
            return Install("compose", services, compose_file=path)
    raise InputError("--compose", f"no compose file in {directory}", f"expected one of {', '.join(COMPOSE_FILES)}")


def restart_argv(install: Install) -> list[str]:
    if install.kind == "systemd":
        return ["systemctl", "restart", *install.services]
    # An env change needs new containers: a plain restart keeps the old environment.
    return ["docker", "compose", "-f", install.compose_file, "up", "-d", "--force-recreate", *install.services]


# States a service does not leave by itself: systemd gave up on it (`failed`), or its container stopped
# and no restart policy brings it back (`exited`, `dead`). Waiting longer changes nothing; a service
# still trying says `activating` or `restarting` (or a container's health `starting`), and is waited for.
GAVE_UP = frozenset({"failed", "exited", "dead"})


def _is_web(service: str) -> bool:
    """Mastodon's web process: systemd's mastodon-web (or a templated mastodon-web@N), Compose's web."""
    return service in ("web", "mastodon-web") or service.startswith("mastodon-web@")


def _status(host: Host, install: Install) -> dict[str, str]:
    if install.kind == "systemd":
        r = host.run(["systemctl", "is-active", *install.services], timeout=30)
        states = r.stdout.decode().split()
        return dict(zip(install.services, states + ["unknown"] * (len(install.services) - len(states)), strict=False))
    r = host.run(["docker", "compose", "-f", install.compose_file, "ps", "--all", "--format", "json"],
                   root=True, timeout=30)
    found: dict[str, str] = {}
    for line in r.stdout.decode().splitlines():
        try:
            items = json.loads(line)
        except ValueError:
            continue
        for c in items if isinstance(items, list) else [items]:
            health = c.get("Health") or ""
            state = c.get("State", "")
            found[c.get("Service", "")] = "active" if state == "running" and health in ("", "healthy") else \
                (state if state != "running" else health)
    return {s: found.get(s, "missing") for s in install.services}


def logs(host: Host, install: Install, service: str, lines: int = 20) -> list[str]:
    if install.kind == "systemd":
        argv = ["journalctl", "-u", service, "-n", str(lines), "--no-pager"]
    else:
        argv = ["docker", "compose", "-f", install.compose_file, "logs", "--no-color", "--tail", str(lines), service]
    return host.run(argv, root=True, timeout=30).stdout.decode("utf-8", "replace").splitlines()[-lines:]


@dataclass
class RestartReport:
    install: Install
    status: int
    checks: list[Check]

    @property
    def ok(self) -> bool:
        return self.status == 0 and all(c.status != "fail" for c in self.checks)


def restart(host: Host, install: Install, instance: str | None, http: HttpOptions | None = None, *,
            on_line: Callable[[str], None] | None = None, timeout: float = 300.0,
            health_timeout: float = 120.0) -> RestartReport:
    """Run the restart with its output streamed, then wait until every service is up and the
    instance's /health answers OK. Each failure names the service and shows its last log lines."""
    argv = restart_argv(install)
    if on_line:
        on_line("$ " + " ".join(argv))
    result = host.run(argv, root=True, timeout=timeout, on_line=on_line)
    checks: list[Check] = []
    cmd = Check("restart.command", "Restart command")
    if result.ok:
        checks.append(cmd.passed(f"`{' '.join(argv)}` exited 0"))
    else:
        checks.append(cmd.failed(f"`{' '.join(argv)}` exited {result.status}: " + " ".join(result.stderr_tail[-2:]),
                                 "see the service logs below", stderr=result.stderr_tail))
    deadline = time.monotonic() + health_timeout
    states: dict[str, str] = {}
    while True:
        states = _status(host, install)
        settled = all(v == "active" or v in GAVE_UP for v in states.values())   # nothing left to come up
        if settled or time.monotonic() > deadline or not result.ok:
            break
        time.sleep(0.5)
    for service, state in states.items():
        chk = Check(f"service.{service}", f"{service} is running")
        if state == "active":
            checks.append(chk.passed("active"))
        else:
            tail = logs(host, install, service)
            checks.append(chk.failed(f"{service} is {state}", "read its log lines (evidence) and fix the cause, then "
                                     "`mastowizard restart`, or roll the env file back", log=tail))
    # every web service gave up (systemd failed it, its container exited): /health cannot come back by waiting
    web = [state for service, state in states.items() if _is_web(service)]
    web_down = bool(web) and all(state in GAVE_UP for state in web)
    checks.append(wait_health(instance, http, time.monotonic() if web_down else deadline))
    return RestartReport(install, result.status, checks)


def wait_health(instance: str | None, http: HttpOptions | None, deadline: float) -> Check:
    chk = Check("instance.health", "Instance answers /health")
    if not instance:
        return chk.skipped("no --instance URL given")
    url = instance.rstrip("/") + "/health"
    last = ""
    with http_client(http) as c:
        while True:
            try:
                r = c.get(url)
                if r.status_code == 200 and r.text.strip() == "OK":
                    return chk.passed(f"{url} answered OK")
                last = f"{r.status_code} {r.text[:80]!r}"
            except httpx.HTTPError as e:
                last = describe_error(e)
            if time.monotonic() > deadline:
                return chk.failed(f"{url}: {last}", "check the web service's logs; the env file may have a bad value",
                                  url=url)
            time.sleep(0.25)
