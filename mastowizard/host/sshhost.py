"""The host interface over SSH: SFTP when the login user may touch the file itself, shell commands
through `sudo` when the file belongs to another user (the sudo password goes on stdin, never in
argv). The env-file plan, apply and rollback run on it unchanged."""

from __future__ import annotations

import contextlib
import errno
import posixpath
import shlex
import stat
import stat as _stat
import threading

import paramiko

from ..errors import InputError, TargetError
from ..secrets import Secret
from .interface import FileStat
from .local import explain_os_error, not_a_file, temp_name
from .ssh import SshTarget, run

NOT_A_FILE = 97          # the exit status of the sudo read for a path that is no regular file


class SshHost:
    def __init__(self, client: paramiko.SSHClient, target: SshTarget, sudo_user: str | None = None,
                 sudo_password: Secret | None = None, timeout: float = 60.0):
        self.client, self.target, self.timeout = client, target, timeout
        self.sudo_user = sudo_user
        self._sudo_password = sudo_password
        self._sftp: paramiko.SFTPClient | None = None
        # one read at a time: concurrent reads on the one SFTP client fail (EIO) and stall, and a
        # `sudo cat` each would pass sshd's MaxSessions
        self._read_lock = threading.Lock()
        self._needs_password: bool | None = None
        if sudo_user:
            self._check_sudo()

    # -- plumbing ------------------------------------------------------------------------
    def describe(self) -> str:
        who = f" as {self.sudo_user} via sudo" if self.sudo_user else ""
        return f"{self.target}{who}"

    @property
    def sftp(self) -> paramiko.SFTPClient:
        if self._sftp is None:
            try:
                self._sftp = self.client.open_sftp()
                self._sftp.get_channel().settimeout(self.timeout)
            except (paramiko.SSHException, OSError) as e:
                raise TargetError(str(self.target), f"SFTP is not available ({e})",
                                  "enable the sftp subsystem, or use --sudo-user") from None
        return self._sftp

    def _check_sudo(self) -> None:
        probe = run(self.client, ["sudo", "-k", "-n", "-u", self.sudo_user, "true"], timeout=30)
        if probe.ok:
            self._needs_password = False
            return
        if not any("password" in line.lower() for line in probe.stderr_tail):
            raise TargetError(str(self.target), f"sudo to {self.sudo_user} is not allowed: "
                              + " ".join(probe.stderr_tail[-1:]), "ask the server's admin for sudo rights")
        if self._sudo_password is None:
            raise TargetError(str(self.target), "sudo needs a password",
                              "set MASTOWIZARD_SUDO_PASSWORD or run from a terminal to be asked")
        self._needs_password = True
        check = self._sh("true")
        if not check.ok:
            raise TargetError(str(self.target), "sudo refused the password",
                              "check the sudo password (MASTOWIZARD_SUDO_PASSWORD)")

    def _sh(self, script: str, stdin: bytes = b"", timeout: float | None = None):
        """Run SCRIPT with sh as the sudo user. The password, when needed, is the first line on stdin."""
        argv = ["sudo", "-k", "-S", "-p", "", "-u", self.sudo_user, "--", "sh", "-c", script] \
            if self._needs_password else ["sudo", "-n", "-u", self.sudo_user, "--", "sh", "-c", script]
        feed = (self._sudo_password.reveal().encode() + b"\n" if self._needs_password else b"") + stdin
        return run(self.client, argv, stdin=feed, timeout=timeout or self.timeout)

    def _fail(self, path: str, result, doing: str) -> TargetError:
        text = " ".join(result.stderr_tail).lower()
        code = (errno.EACCES if "permission denied" in text or "operation not permitted" in text
                else errno.ENOENT if "no such file" in text
                else errno.ENOSPC if "no space" in text
                else errno.EROFS if "read-only" in text
                else errno.EISDIR if "is a directory" in text
                else errno.EEXIST if "file exists" in text else errno.EIO)
        return explain_os_error(OSError(code, " ".join(result.stderr_tail[-1:]) or "failed"), path, doing)

    def _sftp_call(self, path: str, doing: str, fn, *args):
        try:
            return fn(*args)
        except OSError as e:
            raise explain_os_error(e if e.errno else OSError(errno.EIO, str(e)), path, doing) from None
        except (paramiko.SSHException, EOFError) as e:
            raise TargetError(str(self.target), f"the connection broke while {doing} {path} ({e})",
                              "run again; the file keeps its old content") from None

    # -- the host interface --------------------------------------------------------------
    def user(self) -> tuple[int, str]:
        r = self._sh("id -u; id -un") if self.sudo_user else run(self.client, "id -u; id -un", timeout=30)
        uid, name = r.stdout.decode().split()[:2]
        return int(uid), name

    def user_name(self, uid: int) -> str:
        r = run(self.client, ["getent", "passwd", str(uid)], timeout=30)
        return r.stdout.decode().split(":", 1)[0] if r.ok and r.stdout else str(uid)

    def read_bytes(self, path: str) -> bytes:
        with self._read_lock:
            if self.sudo_user:
                q = shlex.quote(path)
                # a special file is told apart by its own exit status, never by what a real file holds
                r = self._sh(f"if [ -e {q} ] && [ ! -f {q} ]; then stat -L -c %f -- {q}; exit {NOT_A_FILE}; fi; "
                             f"cat -- {q}")
                if r.status == NOT_A_FILE:
                    raise not_a_file(path, int(r.stdout.split()[0], 16)) or TargetError(path, "is not a file",
                                                                                      "give the file's path")
                if not r.ok:
                    raise self._fail(path, r, "reading")
                return r.stdout

            def read():
                refused = not_a_file(path, self.sftp.stat(path).st_mode or 0)
                if refused:
                    raise refused
                with self.sftp.open(path, "rb") as f:
                    return f.read()
            return self._sftp_call(path, "reading", read)

    def stat(self, path: str) -> FileStat:
        if self.sudo_user:
            r = self._sh(f"stat -c '%a %u %g %s %.9Y' -- {shlex.quote(path)}")
            if not r.ok:
                raise self._fail(path, r, "reading its mode and owner")
            mode, uid, gid, size, mtime = r.stdout.decode().split()
            return FileStat(int(mode, 8), int(uid), int(gid), int(size), int(float(mtime) * 1e9))
        st = self._sftp_call(path, "reading its mode and owner", self.sftp.stat, path)
        if _stat.S_ISDIR(st.st_mode or 0):
            raise explain_os_error(OSError(errno.EISDIR, "is a directory"), path, "reading")
        return FileStat((st.st_mode or 0) & 0o7777, st.st_uid or 0, st.st_gid or 0, st.st_size or 0,
                        int((st.st_mtime or 0) * 1e9))

    def exists(self, path: str) -> bool:
        if self.sudo_user:
            return self._sh(f"test -e {shlex.quote(path)} || test -L {shlex.quote(path)}").ok
        try:
            self.sftp.lstat(path)
            return True
        except FileNotFoundError:
            return False
        except OSError as e:
            raise explain_os_error(e, path, "looking for it") from None

    def is_dir(self, path: str) -> bool:
        """A directory the user files are read as (the sudo user, else the login) may see."""
        if self.sudo_user:
            return self._sh(f"test -d {shlex.quote(path)}").ok
        try:
            return stat.S_ISDIR(self.sftp.stat(path).st_mode or 0)
        except FileNotFoundError:
            return False
        except OSError as e:
            raise explain_os_error(e, path, "looking for it") from None

    def list_dir(self, path: str) -> list[str]:
        if self.sudo_user:
            r = self._sh(f"find {shlex.quote(path)} -mindepth 1 -maxdepth 1 -printf '%f\\0'")
            if not r.ok:
                raise self._fail(path, r, "listing the directory")
            return sorted(x for x in r.stdout.decode("utf-8", "replace").split("\0") if x)
        return sorted(self._sftp_call(path, "listing the directory", self.sftp.listdir, path))

    def remove(self, path: str) -> None:
        if self.sudo_user:
            r = self._sh(f"rm -f -- {shlex.quote(path)}")
            if not r.ok:
                raise self._fail(path, r, "removing it")
            return
        try:
            self.sftp.remove(path)
        except FileNotFoundError:
            pass
        except OSError as e:
            raise explain_os_error(e, path, "removing it") from None

    def write_atomic(self, path: str, data: bytes, mode: int, uid: int, gid: int, *,
                     exclusive: bool = False) -> None:
        directory = posixpath.dirname(path) or "."
        tmp = temp_name(path)
        if self.sudo_user:
            self._write_sudo(path, tmp, directory, data, mode, uid, gid, exclusive)
        else:
            self._write_sftp(path, tmp, directory, data, mode, uid, gid, exclusive)

    def _write_sudo(self, path, tmp, directory, data, mode, uid, gid, exclusive) -> None:
        q, t, d = shlex.quote(path), shlex.quote(tmp), shlex.quote(directory)
        place = f"ln -- {t} {q} && rm -f -- {t}" if exclusive else f"mv -f -- {t} {q}"
        script = (f"umask 077; set -e; trap 'rm -f -- {t}' EXIT; cat > {t}; "
                  f"if [ \"$(id -u)\" != {uid} ] || [ \"$(id -g)\" != {gid} ]; then chown {uid}:{gid} -- {t}; fi; "
                  f"chmod {mode:o} -- {t}; sync -- {t}; {place}; trap - EXIT; sync -- {d}")
        r = self._sh(script, stdin=data, timeout=max(self.timeout, len(data) / 100_000))
        if not r.ok:
            raise self._fail(path, r, "writing a temporary file beside it and putting it in place")

    def _write_sftp(self, path, tmp, directory, data, mode, uid, gid, exclusive) -> None:
        sftp = self.sftp
        doing = "writing a temporary file beside it"
        try:
            try:
                with sftp.open(tmp, "wbx") as f:
                    f.set_pipelined(True)
                    for i in range(0, len(data), 32768):
                        f.write(data[i:i + 32768])
                    f.flush()
                doing = "setting its mode and owner"
                attrs = sftp.stat(tmp)
                if (attrs.st_uid, attrs.st_gid) != (uid, gid):
                    sftp.chown(tmp, uid, gid)
                sftp.chmod(tmp, mode)
                doing = "flushing it to disk"
                run(self.client, ["sync", "--", tmp], timeout=self.timeout)
                doing = "putting it in place"
                if exclusive:
                    sftp.rename(tmp, path)        # SSH_FXP_RENAME never replaces an existing file
                else:
                    sftp.posix_rename(tmp, path)
                run(self.client, ["sync", "--", directory], timeout=self.timeout)
            except BaseException:
                with contextlib.suppress(Exception):      # the connection may be gone; the next apply cleans up
                    sftp.remove(tmp)
                raise
        except OSError as e:
            transport = self.client.get_transport()
            if not e.errno and (transport is None or not transport.is_active()):    # paramiko: "Socket is closed"
                raise TargetError(str(self.target), f"the connection broke while {doing} ({e}); {path} is unchanged",
                                  "run again") from None
            if exclusive and doing == "putting it in place" and self.exists(path):
                e = OSError(errno.EEXIST, "exists")
            raise explain_os_error(e if e.errno else OSError(errno.EACCES if "denied" in str(e).lower() else errno.EIO,
                                                     str(e)), path, doing) from None
        except (paramiko.SSHException, EOFError) as e:
            raise TargetError(str(self.target), f"the connection broke while {doing} ({e}); {path} is unchanged",
                              "run again") from None

    # -- streams (the media copy) ---------------------------------------------------------------
    def start(self, script: str) -> paramiko.Channel:
        """Start SCRIPT with sh (as the sudo user when there is one) and return its channel: the caller
        streams its stdin and stdout. The sudo password, when needed, has already gone first on stdin."""
        if self.sudo_user:
            argv = (["sudo", "-k", "-S", "-p", "", "-u", self.sudo_user, "--", "sh", "-c", script]
                    if self._needs_password else ["sudo", "-n", "-u", self.sudo_user, "--", "sh", "-c", script])
        else:
            argv = ["sh", "-c", script]
        transport = self.client.get_transport()
        if transport is None or not transport.is_active():
            raise TargetError(str(self.target), "the connection was lost", "run again")
        try:
            chan = transport.open_session(timeout=self.timeout)
            chan.exec_command(shlex.join(argv))
            if self.sudo_user and self._needs_password:
                chan.sendall(self._sudo_password.reveal().encode() + b"\n")
        except (paramiko.SSHException, OSError) as e:
            raise TargetError(str(self.target), f"the connection broke while starting a command ({e})",
                              "run again") from None
        return chan

    def open_sftp(self) -> paramiko.SFTPClient:
        """One more SFTP session on the same connection (its own channel), for parallel reads."""
        if self.sudo_user:
            raise InputError("--transfer", f"SFTP reads as {self.target.user}, not as {self.sudo_user}",
                             "use --transfer tar, which reads through sudo")
        try:
            sftp = self.client.open_sftp()
            sftp.get_channel().settimeout(self.timeout)
            return sftp
        except (paramiko.SSHException, OSError) as e:
            raise TargetError(str(self.target), f"SFTP is not available ({e})", "use --transfer tar") from None

    # -- commands -------------------------------------------------------
    def run(self, argv: list[str], *, root: bool = False, timeout: float = 120.0, on_line=None):
        """Run ARGV on the host, as root through sudo when ROOT and the login user is not root."""
        if not root or self.login_uid() == 0:
            return run(self.client, argv, timeout=timeout, on_line=on_line)
        probe = run(self.client, ["sudo", "-k", "-n", "true"], timeout=30)
        if probe.ok:
            return run(self.client, ["sudo", "-n", "--", *argv], timeout=timeout, on_line=on_line)
        if self._sudo_password is None:
            raise TargetError(str(self.target), f"`{argv[0]}` needs root and sudo needs a password",
                              "set MASTOWIZARD_SUDO_PASSWORD or run from a terminal to be asked")
        r = run(self.client, ["sudo", "-k", "-S", "-p", "", "--", *argv],
                stdin=self._sudo_password.reveal().encode() + b"\n", timeout=timeout, on_line=on_line)
        if r.status == 1 and any("incorrect password" in x or "Sorry, try again" in x for x in r.stderr_tail):
            raise TargetError(str(self.target), "sudo refused the password", "check MASTOWIZARD_SUDO_PASSWORD")
        return r

    def login_uid(self) -> int:
        if not hasattr(self, "_login_uid"):
            self._login_uid = int(run(self.client, "id -u", timeout=30).stdout.decode().strip() or -1)
        return self._login_uid

    def close(self) -> None:
        if self._sftp:
            self._sftp.close()
        self.client.close()
