"""Bad input never acts: a table of mistyped and hostile inputs over every command, each run in a
scratch directory that is compared byte for byte before and after. For each: exit 2, one line on
stderr naming the flag or variable, no traceback, nothing written, no secret value in any output.
Run in-process (the same entry point as the `mastowizard` command) so the whole table takes seconds;
the SSH cases speak to the lab's sshd."""

from __future__ import annotations

import io
import os
import socket
import stat
import sys
import threading
from pathlib import Path

import pytest

from screens.launch import main as mastowizard

SECRET = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYBADINPUTKEY"
TOKEN = "tok-5f1c2d9e8b7a6f5e4d3c2b1a0f9e8d7c"
SUDO = "sudo-pw-3b8f1e2d7c6a"
GOOD = (f"LOCAL_DOMAIN=x.example\nS3_ENABLED=true\nS3_BUCKET=media\nS3_REGION=us-east-1\n"
        f"S3_ENDPOINT=https://s3.example.net\nS3_ALIAS_HOST=files.example\nAWS_ACCESS_KEY_ID=AKIABADINPUT\n"
        f"AWS_SECRET_ACCESS_KEY={SECRET}\n")
ENV_FILES = {
    "good.env": GOOD,
    "binary.env": b"\xff\xfe\x00\x01binary",
    "nul.env": "S3_BUCKET=media\n\0\n",
    "bad-bucket.env": GOOD.replace("S3_BUCKET=media", "S3_BUCKET=Bad_Bucket"),
    "bad-endpoint.env": GOOD.replace("https://s3.example.net", "http://[::1"),
    "port0.env": GOOD.replace("https://s3.example.net", "http://127.0.0.1:0"),
    "userinfo.env": GOOD.replace("https://s3.example.net", f"https://AKIA:{SECRET}@s3.example.net"),
    "alias-url.env": GOOD.replace("S3_ALIAS_HOST=files.example", "S3_ALIAS_HOST=https://files.example"),
    "unclosed.env": GOOD.replace("S3_BUCKET=media", "S3_BUCKET='media"),
    "protocol.env": GOOD + "S3_PROTOCOL=gopher\n",
    "region.env": GOOD.replace("S3_REGION=us-east-1", "S3_REGION=US EAST 1"),
    "backup.before-s3": b"\x89PNG\r\n\x1a\n\0\0binary",
    "token.txt": f"{TOKEN}\n",                   # mode 0644: readable by others
}

E = "--env-file"
G = [E, "good.env"]
CASES: list[tuple[str, list[str], dict, str]] = []


def case(name: str, argv: list[str], expect: str, env: dict | None = None) -> None:
    CASES.append((name, argv, env or {}, expect))


# -- empty values: never "not given" ---------------------------------------------------------------
for cmd, flags in {
    "show": ["--env-file", "--ssh", "--sudo-user", "--known-hosts", "--identity"],
    "plan": ["--env-file", "--bucket", "--region", "--endpoint", "--provider", "--alias-host", "--key-prefix",
             "--ssh"],
    "apply": ["--env-file", "--ssh", "--bucket", "--endpoint", "--alias-host"],
    "rollback": ["--env-file", "--backup", "--ssh"],
    "check": ["--env-file", "--instance", "--ssh", "--ca-bundle", "--resolve"],
    "probe": ["--bucket", "--endpoint", "--region", "--admin-profile"],
    "restart": ["--compose", "--instance", "--ssh"],
    "migrate": ["--source", "--ssh", "--env-file"],
    "prune-cache": ["--days", "--env-file"],
    "token": ["--instance"],
    "doctor": ["--instance", "--env-file"],
}.items():
    for flag in flags:
        extra = ["--instance", "https://m.example"] if cmd == "token" and flag != "--instance" else []
        case(f"{cmd} {flag} ''", [cmd, *extra, flag, ""], flag)
case("web --ssh ''", ["web", "--ssh", ""], "--ssh")
case("wizard --ssh ''", ["wizard", "--ssh", ""], "--ssh")
case("wizard --env-file ''", ["wizard", "--env-file", ""], "--env-file")

# -- names and values ---------------------------------------------------------------------------
for bucket in ("Bad_Bucket", "ab", "a" * 64, "192.168.1.1", "xn--media", "media-s3alias", "-media", "me..dia",
               "media/x"):
    case(f"policy --bucket {bucket}", ["policy", "--bucket", bucket], "bucket")
for endpoint in ("ftp://s3.example.net", "s3.example.net", "http://[::1", "http://h.example:0",
                 "http://h.example:99999", "https://u:p@h.example", "https://h.example/media", "https://h.example?x=1",
                 "https://h.example#f", "http://h .example", "https://", "https://bad_host!.example"):
    case(f"plan --endpoint {endpoint}", ["plan", *G, "--endpoint", endpoint], "endpoint")
for alias in ("https://files.example", "files.example/media", "bad_host!", "[::1", "files.example:0",
              "files.example:70000", "files..example"):
    case(f"plan --alias-host {alias}", ["plan", *G, "--alias-host", alias], "alias-host")
for region in ("US EAST", "a" * 70, "eu west 1"):
    case(f"policy --region {region}", ["policy", "--bucket", "media", "--region", region], "region")
case("policy --provider nope", ["policy", "--bucket", "media", "--provider", "nope"], "provider")
case("policy --addressing sideways", ["policy", "--bucket", "media", "--addressing", "sideways"], "addressing")
case("policy --permission public", ["policy", "--bucket", "media", "--permission", "public"], "permission")
case("policy --protocol ftp", ["policy", "--bucket", "media", "--protocol", "ftp"], "protocol")
for prefix in ("../x", "a b", "/x"):
    case(f"policy --key-prefix {prefix}", ["policy", "--bucket", "media", "--key-prefix", prefix], "key-prefix")
for url in ("http://", "http://a b.example", "http://x.example:99999", "ftp://x.example", "http://remote.example",
            "https://x.example/path", f"https://u:{TOKEN}@x.example", "https://[::1", "https://x.example#top"):
    case(f"check --instance {url}", ["check", *G, "--instance", url], "--instance")
    case(f"token --instance {url}", ["token", "--instance", url], "--instance")
for r in ("bad", "h.example:0:127.0.0.1", "h.example:80:not-an-ip", "h.example:99999:127.0.0.1"):
    case(f"probe --resolve {r}", ["probe", *G, "--resolve", r], "--resolve")
case("probe --ca-bundle missing", ["probe", *G, "--ca-bundle", "missing.pem"], "--ca-bundle")
case("probe --ca-bundle dir", ["probe", *G, "--ca-bundle", "."], "--ca-bundle")

# -- env files with odd content, special files ----------------------------------------------------
for name, field in (("binary.env", "binary.env"), ("nul.env", "nul.env"), ("bad-bucket.env", "S3_BUCKET"),
                    ("bad-endpoint.env", "S3_ENDPOINT"), ("port0.env", "S3_ENDPOINT"), ("userinfo.env", "S3_ENDPOINT"),
                    ("alias-url.env", "S3_ALIAS_HOST"), ("protocol.env", "S3_PROTOCOL"), ("region.env", "S3_REGION"),
                    ("fifo.env", "fifo.env"), ("missing.env", "missing.env"),
                    ("adir", "adir"), ("/dev/zero", "/dev/zero")):
    for cmd in ("plan", "probe"):
        case(f"{cmd} {name}", [cmd, E, name], field)
for name in ("binary.env", "fifo.env", "adir"):
    case(f"show {name}", ["show", E, name], name)
    case(f"apply {name}", ["apply", E, name, "--yes"], name)
case("rollback binary backup", ["rollback", *G, "--backup", "backup.before-s3", "--yes"], "backup.before-s3")
case("rollback binary backup --json", ["rollback", *G, "--backup", "backup.before-s3", "--yes", "--json"],
     "backup.before-s3")
case("rollback fifo backup", ["rollback", *G, "--backup", "fifo.env", "--yes"], "fifo.env")
case("rollback missing backup", ["rollback", *G, "--backup", "nope.before-s3", "--yes"], "nope.before-s3")
case("rollback no backup at all", ["rollback", *G, "--yes"], "good.env")
case("apply without --yes and no terminal", ["apply", *G], "--yes")

# -- numbers and choices ----------------------------------------------------------------------------
for jobs in ("0", "-1", "abc", "100000"):
    case(f"migrate --jobs {jobs}", ["migrate", *G, "--source", ".", "--jobs", jobs], "--jobs")
case("migrate --source missing", ["migrate", *G, "--source", "nowhere", "--yes"], "--source")
case("migrate --source a file", ["migrate", *G, "--source", "good.env", "--yes"], "--source")
case("migrate --verify bogus", ["migrate", *G, "--verify", "bogus"], "--verify")
case("migrate --transfer bogus", ["migrate", *G, "--transfer", "bogus"], "--transfer")
for days in ("0", "-3", "abc", "1.5"):
    case(f"prune-cache --days {days}", ["prune-cache", *G, "--days", days, "--yes"], "--days")
for t in ("-1", "abc"):
    case(f"restart --timeout {t}", ["restart", *G, "--timeout", t], "--timeout")
case("restart --compose missing dir", ["restart", *G, "--compose", "nowhere", "--instance", "https://m.example"],
     "nowhere")
for args, flag in ((["--host", "0.0.0.0"], "--host"), (["--host", "example.com"], "--host"),
                   (["--port", "-1"], "--port"),
                   (["--port", "http"], "--port"), (["--sessions", "0"], "--sessions"),
                   (["--public-url", "ftp://x.example"], "--public-url")):
    case(f"web {' '.join(args)}", ["web", *args], flag)
case("wizard --bogus", ["wizard", "--bogus"], "usage")
case("no such command", ["frobnicate"], "usage")
# -- watch: the baseline, where it writes, the token file -------------------------------------------
W = ["watch", *G, "--instance", "https://m.example"]
case("watch without --baseline", W, "--baseline")
case("watch --baseline ''", [*W, "--baseline", ""], "--baseline")
case("watch --baseline missing", [*W, "--baseline", "nope.json"], "--baseline")
case("watch --baseline not a baseline", [*W, "--baseline", "good.env"], "--baseline")
case("watch --baseline binary", [*W, "--baseline", "backup.before-s3"], "--baseline")
case("watch --baseline a directory", [*W, "--baseline", "adir"], "--baseline")
case("watch --save into a missing directory", [*W, "--baseline", "nowhere/b.json", "--save"], "--baseline")
case("watch --metrics into a missing directory", [*W, "--baseline", "good.env", "--metrics", "nowhere/m.prom"],
     "--metrics")
case("watch --metrics ''", [*W, "--baseline", "good.env", "--metrics", ""], "--metrics")
case("watch --state ''", [*W, "--baseline", "good.env", "--state", ""], "--state")
for days in ("-1", "abc"):
    case(f"watch --cert-days {days}", [*W, "--baseline", "good.env", "--cert-days", days], "--cert-days")
case("watch --token-file readable by others", [*W, "--baseline", "b.json", "--save", "--token-file", "token.txt"],
     "--token-file")
case("watch --save over the env file", [*W, "--baseline", "good.env", "--save"], "--baseline")
case("watch --metrics over the env file", [*W, "--baseline", "good.env", "--metrics", "good.env"], "--metrics")
case("watch --state over a binary file", [*W, "--baseline", "good.env", "--state", "backup.before-s3"], "--state")
case("watch --token-file missing", [*W, "--baseline", "b.json", "--save", "--token-file", "nope"], "--token-file")
case("MASTOWIZARD_ADMIN_PROFILE empty", ["probe", *G], "MASTOWIZARD_ADMIN_PROFILE", {"MASTOWIZARD_ADMIN_PROFILE": " "})
case("--admin-profile missing", ["setup-bucket", *G, "--admin-profile", "nope"], "--admin-profile")
case("MASTOWIZARD_SSH_TIMEOUT abc", ["show", "--ssh", "127.0.0.1:1", E, "/x/.env"], "MASTOWIZARD_SSH_TIMEOUT",
     {"MASTOWIZARD_SSH_TIMEOUT": "abc"})
case("--accept-host-key not a fingerprint", ["show", "--ssh", "127.0.0.1:1", "--accept-host-key", "yes", E, "/x/.env"],
     "--accept-host-key")
for target in ("user@", "@host", "host:0", "host:99999", "a b", "[::1", "host:ssh"):
    case(f"show --ssh {target}", ["show", "--ssh", target, E, "/x/.env"], "ssh")
case("show --ssh refused port", ["show", "--ssh", "127.0.0.1:1", E, "/x/.env"], "127.0.0.1:1")


def _snapshot(root: Path) -> dict:
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            st = p.lstat()
            out[str(p.relative_to(root))] = (st.st_mode, p.read_bytes() if stat.S_ISREG(st.st_mode) else None)
    return out


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    root = tmp_path_factory.mktemp("bad-input")
    for name, content in ENV_FILES.items():
        (root / name).write_bytes(content if isinstance(content, bytes) else content.encode())
    os.mkfifo(root / "fifo.env")
    (root / "adir").mkdir()
    (root / "config").mkdir()
    return root


def _run(argv, env, cwd, monkeypatch, capsys) -> tuple[int, str, str]:
    with monkeypatch.context() as m:
        for k in list(os.environ):
            if k.startswith(("AWS_", "MASTOWIZARD_", "MASTODON_", "DISPLAY", "WAYLAND")):
                m.delenv(k)
        m.setenv("MASTODON_ACCESS_TOKEN", TOKEN)
        m.setenv("MASTOWIZARD_SUDO_PASSWORD", SUDO)
        m.setenv("AWS_SHARED_CREDENTIALS_FILE", str(cwd / "no-aws-credentials"))
        m.setenv("AWS_CONFIG_FILE", str(cwd / "no-aws-config"))
        m.setenv("XDG_CONFIG_HOME", str(cwd / "config"))
        m.setenv("MASTOWIZARD_SSH_TIMEOUT", "3")
        for k, v in env.items():
            m.setenv(k, v)
        m.chdir(cwd)
        m.setattr(sys, "stdin", io.StringIO(""))
        try:
            rc = mastowizard(list(argv))
        except SystemExit as e:               # argparse's --help/--version only; bad usage is ours
            rc = e.code
    out, err = capsys.readouterr()
    return rc, out, err


def check(argv, env, expect, root, monkeypatch, capsys, secrets=()):
    before = _snapshot(root)
    rc, out, err = _run(argv, env, root, monkeypatch, capsys)
    lines = err.strip().splitlines()
    assert rc == 2, (argv, rc, out, err)
    assert len(lines) == 1 and "Traceback" not in err and "internal error" not in err, (argv, err)
    assert expect in lines[0], (argv, expect, lines[0])
    for secret in (SECRET, TOKEN, SUDO, *secrets):
        assert secret not in out + err, (argv, secret)
    assert _snapshot(root) == before, argv                      # nothing written, nothing removed


@pytest.mark.parametrize("name,argv,env,expect", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_refused_in_one_line_and_nothing_is_written(name, argv, env, expect, scratch, monkeypatch,
                                                                 capsys):
    check(argv, env, expect, scratch, monkeypatch, capsys)


@pytest.fixture
def silent_port():
    """A port that accepts and never sends an SSH banner."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(8)
    held = []
    stop = threading.Event()

    def serve():
        s.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(s.accept()[0])
            except OSError:
                pass
    t = threading.Thread(target=serve, daemon=True)
    t.start()
    yield s.getsockname()[1]
    stop.set()
    t.join()
    for c in held:
        c.close()
    s.close()


def test_a_port_that_never_sends_a_banner_is_one_line_in_time(silent_port, scratch, monkeypatch, capsys):
    import time
    t = time.monotonic()
    check(["show", "--ssh", f"127.0.0.1:{silent_port}", E, "/x/.env"], {"MASTOWIZARD_SSH_TIMEOUT": "1"},
          f"127.0.0.1:{silent_port}", scratch, monkeypatch, capsys)
    assert time.monotonic() - t < 10


@pytest.mark.lab
class TestOverTheLabsSshd:
    """The same contract over SSH: the lab's sshd, its Mastodon instance directory unchanged."""

    @pytest.fixture(autouse=True)
    def lab(self, tmp_path, scratch):
        from mastowizard_lab import sshd
        sshd.start()
        kh = tmp_path / "known_hosts"
        kh.write_text(sshd.known_hosts_line())
        self.sshd, self.instance = sshd, sshd.env_file().parent
        self.target = f"{sshd.ADMIN_USER}@127.0.0.1:{sshd.SSH_PORT}"
        self.opts = ["--known-hosts", str(kh), "--identity", str(sshd.client_key())]
        fifo = Path("/tmp/mastowizard-bad-input.fifo")
        if not fifo.exists():
            os.mkfifo(fifo)
            os.chmod(fifo, 0o666)
        self.fifo = str(fifo)

    CASES = [
        ("env file missing on the host", ["show", E, "/var/lib/nowhere/.env.production"], "/var/lib/nowhere"),
        ("env file is a FIFO", ["show", E, "/tmp/mastowizard-bad-input.fifo"], "FIFO"),
        ("env file is a FIFO through sudo", ["show", E, "/tmp/mastowizard-bad-input.fifo", "--sudo-user",
                                              "mw-mastodon"], "FIFO"),
        ("env file is a directory", ["show", E, "/tmp"], "/tmp"),
        ("plan with a bad bucket flag", ["plan", "ENV", "--bucket", "Bad_Bucket"], "bucket"),
        ("apply with a bad endpoint flag", ["apply", "ENV", "--endpoint", "http://[::1", "--yes"], "endpoint"),
        ("plan through sudo, a bad alias host", ["plan", "ENV", "--sudo-user", "mw-mastodon", "--alias-host",
                                                 "https://files.example"], "alias-host"),
        ("apply through sudo, port 0", ["apply", "ENV", "--sudo-user", "mw-mastodon", "--endpoint",
                                        "http://127.0.0.1:0", "--yes"], "endpoint"),
        ("migrate through sudo, a source that is not there", ["migrate", "ENV", "--sudo-user", "mw-mastodon",
                                                              "--bucket", "media", "--source", "/var/lib/nowhere",
                                                              "--yes"], "nowhere"),
        ("rollback with no backup there", ["rollback", "ENV", "--backup", "/tmp/no-such.before-s3", "--yes"],
         "/tmp/no-such.before-s3"),
        ("sudo to a user that does not exist", ["show", "ENV", "--sudo-user", "nosuchuser"], "nosuchuser"),
        ("migrate with --jobs 0", ["migrate", "ENV", "--jobs", "0"], "--jobs"),
        ("check with an http instance", ["check", "ENV", "--instance", "http://remote.example"], "--instance"),
    ]

    @pytest.mark.parametrize("name,argv,expect", CASES, ids=[c[0] for c in CASES])
    def test_over_ssh(self, name, argv, expect, scratch, monkeypatch, capsys):
        argv = [a for x in argv for a in ([E, str(self.instance / ".env.production")] if x == "ENV" else [x])]
        before = _snapshot(self.instance)
        check([*argv, "--ssh", self.target, *self.opts], {"MASTOWIZARD_SUDO_PASSWORD": self.sshd.ADMIN_PASSWORD,
                                                             "AWS_ACCESS_KEY_ID": "AKIABADINPUT",
                                                             "AWS_SECRET_ACCESS_KEY": SECRET},
              expect, scratch, monkeypatch, capsys, secrets=[self.sshd.ADMIN_PASSWORD])
        assert _snapshot(self.instance) == before

    def test_an_unknown_host_key_is_never_trusted_silently(self, tmp_path, scratch, monkeypatch, capsys):
        argv = ["show", E, str(self.instance / ".env.production"), "--ssh", self.target,
                "--known-hosts", str(tmp_path / "empty_known_hosts"), "--identity", str(self.sshd.client_key())]
        check(argv, {}, "host key", scratch, monkeypatch, capsys)
        assert not (tmp_path / "empty_known_hosts").exists()

    def test_through_sudo_a_real_file_is_read_whatever_it_starts_with(self, scratch, monkeypatch, capsys):
        """The sudo read tells a special file by its exit status, not by the bytes a real file holds."""
        odd = Path("/tmp/mastowizard-bad-input-odd.env")
        odd.write_text("not-a-file 1000\nLOCAL_DOMAIN=odd.example\n")     # what the old marker looked like
        odd.chmod(0o644)
        rc, out, err = _run(["show", E, str(odd), "--sudo-user", "mw-mastodon", "--ssh", self.target, *self.opts],
                            {"MASTOWIZARD_SUDO_PASSWORD": self.sshd.ADMIN_PASSWORD}, scratch, monkeypatch, capsys)
        # read as the file it is: its first line is named as unparsable, not the file as a FIFO
        assert rc == 2 and "line 1" in err and "FIFO" not in err, (rc, out, err)
