"""SSH to the Mastodon host with paramiko: ~/.ssh/config, agent and key files, host keys checked
against known_hosts (an unknown key is trusted only on the operator's yes), timeouts everywhere."""

from __future__ import annotations

import os
import re
import select
import shlex
import socket
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from ..errors import InputError, MastowizardError, TargetError
from ..secrets import Secret
from .interface import CommandResult

if TYPE_CHECKING:                 # paramiko (and cryptography) load when a connection is made
    import paramiko

CONNECT_TIMEOUT = 10.0
COMMAND_TIMEOUT = 120.0
_TARGET = re.compile(r"^(?:(?P<user>[A-Za-z0-9._-][A-Za-z0-9._-]*)@)?(?P<host>\[[0-9A-Fa-f:.]+\]|[^@:\s/\[\]]+)"
                     r"(?::(?P<port>\d{1,5}))?$")


class Prompter(Protocol):
    """How a front end asks the operator. Any method may return None: nobody to ask."""

    def secret(self, prompt: str) -> str | None: ...
    def confirm_host_key(self, host: str, key_type: str, fingerprint: str) -> bool: ...


class NoPrompt:
    def secret(self, prompt: str) -> str | None:
        return None

    def confirm_host_key(self, host: str, key_type: str, fingerprint: str) -> bool:
        return False


class UnknownHostKey(MastowizardError):
    def __init__(self, host: str, key_type: str, fingerprint: str):
        self.host, self.key_type, self.fingerprint = host, key_type, fingerprint
        self.field = "--accept-host-key"
        self.message = f"the host key of {host} is unknown: {key_type} {fingerprint}"
        self.fix = (f"check the fingerprint with the server (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub), "
                    f"then rerun with --accept-host-key {fingerprint}")
        super().__init__(f"{self.message} ({self.fix})")


@dataclass(frozen=True)
class SshTarget:
    host: str                  # as the operator wrote it (config alias or name)
    hostname: str              # what is connected to
    port: int
    user: str
    identity_files: tuple[str, ...] = ()
    proxy_jump: str | None = None

    @property
    def known_hosts_name(self) -> str:
        return self.hostname if self.port == 22 else f"[{self.hostname}]:{self.port}"

    def __str__(self) -> str:
        return f"{self.user}@{self.hostname}" + (f":{self.port}" if self.port != 22 else "")


def parse_target(text: str, config_path: str | None = None) -> SshTarget:
    """`[user@]host[:port]`, completed from ~/.ssh/config (HostName, User, Port, IdentityFile, ProxyJump)."""
    import paramiko
    m = _TARGET.match((text or "").strip())
    if not m:
        raise InputError("--ssh", f"{text!r} is not [user@]host[:port]", "e.g. --ssh admin@mastodon.example.com")
    host = m.group("host").strip("[]")
    cfg = paramiko.SSHConfig()
    path = os.path.expanduser(config_path or "~/.ssh/config")
    if os.path.isfile(path):
        try:
            cfg = paramiko.SSHConfig.from_path(path)
        except Exception as e:  # noqa: BLE001 - a broken config is the operator's to fix
            raise InputError("~/.ssh/config", f"cannot be read: {e}", "fix the file or move it away") from None
    entry = cfg.lookup(host)
    port = m.group("port") or entry.get("port") or "22"
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise InputError("--ssh", f"port {port!r} is not valid", "use a port from 1 to 65535")
    user = m.group("user") or entry.get("user") or _local_user()
    return SshTarget(host=host, hostname=entry.get("hostname", host), port=int(port), user=user,
                     identity_files=tuple(os.path.expanduser(p) for p in entry.get("identityfile", [])),
                     proxy_jump=entry.get("proxyjump"))


def _local_user() -> str:
    import pwd
    return pwd.getpwuid(os.geteuid()).pw_name


class _HostKeyPolicy:
    """paramiko's MissingHostKeyPolicy (duck-typed: paramiko is imported only to connect). Unknown
    key: accept only the fingerprint the operator gave or confirms, then remember it."""

    def __init__(self, target_name: str, accept: str | None, prompt: Prompter, known_hosts: str):
        self.target_name, self.accept, self.prompt, self.known_hosts = target_name, accept, prompt, known_hosts

    def missing_host_key(self, client, hostname, key):
        fp, kind = key.fingerprint, key.get_name()
        asked = self.accept is None and self.prompt.confirm_host_key(self.target_name, kind, fp)
        if not (self.accept == fp or asked):
            raise UnknownHostKey(self.target_name, kind, fp)
        client.get_host_keys().add(hostname, kind, key)
        os.makedirs(os.path.dirname(self.known_hosts) or ".", mode=0o700, exist_ok=True)
        with open(self.known_hosts, "a") as f:
            f.write(f"{hostname} {kind} {key.get_base64()}\n")


@dataclass
class SshOptions:
    known_hosts: str = field(default_factory=lambda: os.path.expanduser("~/.ssh/known_hosts"))
    accept_host_key: str | None = None
    password: Secret | None = None           # login password (MASTOWIZARD_SSH_PASSWORD or prompt)
    key_passphrase: Secret | None = None     # MASTOWIZARD_SSH_KEY_PASSPHRASE or prompt
    identity_file: str | None = None
    ssh_config: str | None = None            # default ~/.ssh/config (for ProxyJump hosts too)
    use_agent: bool = True
    prompt: Prompter = field(default_factory=NoPrompt)
    timeout: float = field(default_factory=lambda: _timeout_from_env())

    def __post_init__(self):
        if self.accept_host_key and not re.fullmatch(r"SHA256:[A-Za-z0-9+/]{43}=?", self.accept_host_key):
            raise InputError("--accept-host-key", f"{self.accept_host_key!r} is not a SHA256 fingerprint",
                             "copy it as ssh-keygen -l prints it: SHA256: and 43 characters")


def _timeout_from_env() -> float:
    """MASTOWIZARD_SSH_TIMEOUT (seconds): the bound on connecting, the server's banner and the login."""
    raw = os.environ.get("MASTOWIZARD_SSH_TIMEOUT")
    if raw is None:
        return CONNECT_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = -1
    if not 0.5 <= value <= 600:
        raise InputError("MASTOWIZARD_SSH_TIMEOUT", f"{raw!r} is not a number of seconds from 0.5 to 600",
                         "unset it (10 s) or give e.g. 30")
    return value


def quiet_paramiko() -> None:
    """paramiko's transport thread logs its own errors and tracebacks (a port that is no SSH server)
    to stderr, racing the one line we print: keep them out, unless MASTOWIZARD_DEBUG asks for them."""
    import logging
    log = logging.getLogger("paramiko")
    if os.environ.get("MASTOWIZARD_DEBUG"):
        return
    if not any(isinstance(h, logging.NullHandler) for h in log.handlers):
        log.addHandler(logging.NullHandler())
    log.propagate = False


def _load_key(path: str, options: SshOptions) -> paramiko.PKey | None:
    import paramiko
    if not os.path.isfile(path):
        return None
    try:
        return paramiko.PKey.from_path(path)
    except (paramiko.PasswordRequiredException, TypeError):   # TypeError: cryptography's "password-protected"
        phrase = options.key_passphrase
        if phrase is None:
            typed = options.prompt.secret(f"Passphrase for {path}: ")
            phrase = Secret(typed) if typed else None
        if phrase is None:
            return None
        try:
            return paramiko.PKey.from_path(path, password=phrase.reveal().encode())
        except (paramiko.SSHException, ValueError, TypeError):
            raise TargetError(path, "the passphrase does not open this key",
                              "check MASTOWIZARD_SSH_KEY_PASSPHRASE or type it again") from None
    except (paramiko.SSHException, ValueError, OSError):
        return None


def _socket_error(target: SshTarget, exc: Exception) -> TargetError:
    import paramiko
    where = f"{target.hostname}:{target.port}"
    if isinstance(exc, paramiko.SSHException) and ("protocol banner" in str(exc) or "No existing session" in str(exc)):
        return TargetError(where, "the server did not answer as an SSH server",
                           "check the port (--ssh host:PORT); MASTOWIZARD_SSH_TIMEOUT=30 for a very slow host")
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return TargetError(where, "no answer in time (connection timed out)",
                           "check the host name, the port and the firewall")
    if isinstance(exc, socket.gaierror):
        return TargetError(where, "the host name does not resolve", "check the name, or use its IP address")
    if isinstance(exc, (paramiko.ssh_exception.NoValidConnectionsError, ConnectionRefusedError)):
        return TargetError(where, "connection refused: nothing listens for SSH there",
                           "check the port (--ssh host:PORT) and that sshd runs")
    return TargetError(where, f"cannot connect: {exc}", "check the host, the port and the network")


def connect(target: SshTarget, options: SshOptions | None = None, _jumped: int = 0) -> paramiko.SSHClient:
    import paramiko
    quiet_paramiko()
    options = options or SshOptions()
    client = paramiko.SSHClient()
    if os.path.isfile(options.known_hosts):
        try:
            client.load_host_keys(options.known_hosts)
        except Exception:  # noqa: BLE001
            raise InputError("known_hosts", f"{options.known_hosts} cannot be read",
                             "fix or move the file") from None
    client.set_missing_host_key_policy(
        _HostKeyPolicy(target.known_hosts_name, options.accept_host_key, options.prompt, options.known_hosts))
    sock = None
    if target.proxy_jump and _jumped < 3:
        jump = parse_target(target.proxy_jump.split(",")[0], options.ssh_config)
        jump_client = connect(jump, options, _jumped + 1)
        try:
            sock = jump_client.get_transport().open_channel("direct-tcpip", (target.hostname, target.port),
                                                            ("127.0.0.1", 0), timeout=options.timeout)
        except paramiko.ChannelException as e:
            raise TargetError(str(jump), f"the jump host cannot reach {target.hostname}:{target.port} ({e})",
                              "check ProxyJump and the target address") from None
    keys = [k for k in (_load_key(p, options) for p in
                        ([options.identity_file] if options.identity_file else list(target.identity_files)))
            if k]
    attempts: list[dict] = [{"pkey": k} for k in keys] or [{}]
    last_error: Exception | None = None
    for _i, attempt in enumerate(attempts + [{"password": True}]):
        if "password" in attempt:
            password = options.password
            if password is None:
                typed = options.prompt.secret(f"Password for {target}: ")
                password = Secret(typed) if typed else None
            if password is None:
                break
            attempt = {"password": password.reveal()}
        try:
            client.connect(target.hostname, target.port, username=target.user, timeout=options.timeout,
                           banner_timeout=options.timeout, auth_timeout=options.timeout, sock=sock,
                           allow_agent=options.use_agent and "password" not in attempt,
                           look_for_keys=not keys and not options.identity_file and "password" not in attempt,
                           **attempt)
            _no_delay(client)
            return client
        except UnknownHostKey:
            client.close()
            raise
        except paramiko.BadHostKeyException as e:
            client.close()
            raise TargetError(target.known_hosts_name,
                              f"the host key CHANGED: the server now shows {e.key.get_name()} {e.key.fingerprint}; "
                              "this may be an attack, nothing was done",
                              f"if the server really got a new key, remove the old one with "
                              f"ssh-keygen -R '{target.known_hosts_name}' and check the new fingerprint") from None
        except paramiko.AuthenticationException as e:
            last_error = e
            continue
        except paramiko.SSHException as e:
            if "No authentication methods available" in str(e):   # nothing to offer: try the password
                continue
            client.close()
            raise _socket_error(target, e) from None
        except OSError as e:
            client.close()
            raise _socket_error(target, e) from None
    client.close()
    raise TargetError(str(target), "authentication failed" + (f" ({last_error})" if last_error else ""),
                      "check the user, the key (ssh-add, IdentityFile, --identity) or the password")


def _no_delay(client: paramiko.SSHClient) -> None:
    """Send each small SSH packet at once (TCP_NODELAY, as OpenSSH's client does for interactive
    sessions): with Nagle's algorithm a command's request waits ~40 ms for the server's delayed ACK."""
    sock = getattr(client.get_transport(), "sock", None)
    if isinstance(sock, socket.socket) and sock.family in (socket.AF_INET, socket.AF_INET6):
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass            # a socket that refuses it works as before, only slower


def run(client: paramiko.SSHClient, argv: list[str] | str, *, stdin: bytes | None = None,
        timeout: float = COMMAND_TIMEOUT, on_line: Callable[[str], None] | None = None,
        keep_stdout: bool = True, tail: int = 50, max_stdout: int = 64 << 20) -> CommandResult:
    """Run a command; stream its output line by line to ON_LINE; keep the last TAIL lines of stderr.
    A command past TIMEOUT is stopped and reported; stdout beyond MAX_STDOUT is an error."""
    import paramiko
    command = argv if isinstance(argv, str) else shlex.join(argv)
    transport = client.get_transport()
    if transport is None or not transport.is_active():
        raise TargetError("ssh", "the connection was lost", "run again")
    try:
        chan = transport.open_session(timeout=CONNECT_TIMEOUT)
        chan.exec_command(command)
        if stdin:
            chan.sendall(stdin)
        chan.shutdown_write()
    except (paramiko.SSHException, OSError) as e:
        raise TargetError("ssh", f"the connection broke while starting a command ({e})", "run again") from None
    out = bytearray()
    err_tail: deque[str] = deque(maxlen=tail)
    buffers = {"out": b"", "err": b""}
    seen = 0
    deadline = time.monotonic() + timeout

    def emit(kind: str, data: bytes, final: bool = False) -> None:
        nonlocal seen
        buf = buffers[kind] + data
        *lines, rest = buf.split(b"\n")
        if final and rest:
            lines, rest = lines + [rest], b""
        buffers[kind] = rest[-65536:]
        for raw in lines:
            seen += 1
            line = raw.decode("utf-8", "replace").rstrip("\r")
            if kind == "err":
                err_tail.append(line)
            if on_line:
                on_line(line)

    try:
        while True:
            if time.monotonic() > deadline:
                chan.close()
                raise TargetError("ssh", f"`{command[:60]}` did not finish in {timeout:.0f}s and was stopped",
                                  "check the host; rerun with a longer timeout if it is only slow")
            select.select([chan], [], [], 0.2)
            progressed = False
            while chan.recv_ready():
                data = chan.recv(65536)
                progressed = True
                if keep_stdout:
                    out += data
                    if len(out) > max_stdout:
                        chan.close()
                        raise TargetError("ssh", f"`{command[:60]}` printed more than {max_stdout >> 20} MiB",
                                          "check the command")
                if on_line:
                    emit("out", data)
            while chan.recv_stderr_ready():
                emit("err", chan.recv_stderr(65536))
                progressed = True
            # the end is the channel's EOF, never the exit status: sshd sends the status when the
            # process ends, and may send output still in its pipes after it
            if chan.eof_received and not chan.recv_ready() and not chan.recv_stderr_ready():
                break
            if chan.closed and not progressed:
                break
        while not chan.exit_status_ready() and not chan.closed:
            if time.monotonic() > deadline:        # the status may come after the EOF, but in time
                chan.close()
                raise TargetError("ssh", f"`{command[:60]}` did not finish in {timeout:.0f}s and was stopped",
                                  "check the host; rerun with a longer timeout if it is only slow")
            chan.status_event.wait(0.2)
        status = chan.recv_exit_status() if chan.exit_status_ready() else -1
    except (OSError, EOFError, paramiko.SSHException) as e:
        raise TargetError("ssh", f"the connection was lost while running a command ({e})",
                          "run again; a file being written keeps its old content") from None
    if on_line:
        emit("out", b"", final=True)
    emit("err", b"", final=True)
    if status == -1:
        raise TargetError("ssh", f"the connection was lost while `{command[:60]}` ran",
                          "run again; a file being written keeps its old content")
    return CommandResult(status, bytes(out), list(err_tail), seen)
