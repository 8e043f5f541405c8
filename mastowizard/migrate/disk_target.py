"""Where a copy back to disk writes: public/system (or PAPERCLIP_ROOT_PATH) on this machine
(LocalTarget) or on the Mastodon host over SSH (SshTarget, every command as the --sudo-user when
there is one). Each tells who must own the files, refuses a destination it cannot write as that
owner, and answers what the copy asks of the disk: free space, files, checksums, a file's bytes."""

from __future__ import annotations

import hashlib
import os
import posixpath
import pwd
import shlex
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass

from ..errors import InputError
from .dest_tree import TEMP_GLOB, DiskFile, local_files, remote_files, sh
from .disk_writers import LocalWriter, TarWriter


@dataclass(frozen=True)
class Owner:
    uid: int
    gid: int
    name: str

    def __str__(self) -> str:
        return f"{self.name} ({self.uid}:{self.gid})"


def _nearest(path: str, exists) -> str:
    while not exists(path) and path not in ("/", ""):
        path = posixpath.dirname(path)
    return path or "/"


class LocalTarget:
    where = "this machine"

    def __init__(self, dest: str, env_file: str):
        self.dest, self.env_file = dest, env_file

    def owner(self) -> Owner:
        """Who owns public/system now, else the env file: the instance's user."""
        st = os.stat(self.dest if os.path.isdir(self.dest) else self.env_file)
        try:
            name = pwd.getpwuid(st.st_uid).pw_name
        except KeyError:
            name = str(st.st_uid)
        return Owner(st.st_uid, st.st_gid, name)

    def check(self, owner: Owner) -> None:
        me = os.geteuid()
        if me not in (0, owner.uid):
            raise InputError(self.dest, f"its files must belong to {owner}, and this user ({me}) cannot write them "
                             "as that user; nothing was written", f"run as {owner.name} or root")
        d = _nearest(self.dest, os.path.exists)
        try:
            fd, probe = tempfile.mkstemp(prefix=".mastowizard-probe-", dir=d)
            os.close(fd)
            os.unlink(probe)
        except OSError as e:
            raise InputError(self.dest, f"is not writable ({d}: {e.strerror}); nothing was written",
                             "check the path (PAPERCLIP_ROOT_PATH), its permissions and that the disk is mounted "
                             "read-write") from None

    def free_bytes(self) -> int | None:
        st = os.statvfs(_nearest(self.dest, os.path.exists))
        return st.f_bavail * st.f_frsize

    def files(self, with_owner: bool = False) -> Iterator[DiskFile]:
        return local_files(self.dest, with_owner)

    def md5(self, rels: list[str]) -> dict[str, str]:
        out = {}
        for rel in rels:
            try:
                with open(os.path.join(self.dest, rel), "rb") as fh:
                    out[rel] = hashlib.file_digest(fh, "md5").hexdigest()
            except OSError:
                pass
        return out

    def remove(self, rels: list[str]) -> None:
        for rel in rels:
            try:
                os.unlink(os.path.join(self.dest, rel))
            except FileNotFoundError:
                pass

    def remove_temps(self, rels: list[str]) -> None:
        """The temporary files a killed run left (the survey found them; a finished run leaves none)."""
        self.remove(rels)

    def chmod(self, rels: list[str], mode: int) -> None:
        for rel in rels:
            os.chmod(os.path.join(self.dest, rel), mode)

    def read(self, rel: str) -> bytes:
        with open(os.path.join(self.dest, rel), "rb") as fh:
            return fh.read()

    def writer(self, owner: Owner) -> LocalWriter:
        return LocalWriter(self.dest, owner.uid, owner.gid)


class SshTarget:
    def __init__(self, host, dest: str, env_file: str):
        self.host, self.dest, self.env_file = host, dest, env_file
        self.where = host.describe()
        self.sudo_user = getattr(host, "sudo_user", None)

    def _sh(self, script: str, stdin: bytes = b""):
        return sh(self.host, script, stdin)

    def owner(self) -> Owner:
        """The --sudo-user (the files are written as that user), else the owner of public/system now,
        else of the env file."""
        q, e = shlex.quote(self.dest), shlex.quote(self.env_file)
        script = ("id -u; id -g; id -un" if self.sudo_user else
                  f"if [ -d {q} ]; then p={q}; else p={e}; fi; u=$(stat -c %u -- \"$p\") || exit 3; "
                  "echo $u; stat -c %g -- \"$p\"; getent passwd $u | cut -d: -f1")
        r = self._sh(script)
        parts = r.stdout.decode().split()
        if r.status != 0 or len(parts) < 2:
            raise InputError("--env-file", f"the owner of {self.dest} on {self.where} could not be read ({r.stderr})",
                             "check the path, or give --sudo-user with the instance's user")
        return Owner(int(parts[0]), int(parts[1]), parts[2] if len(parts) > 2 else parts[0])

    def check(self, owner: Owner) -> None:
        me = self._sh("id -u").stdout.decode().strip()
        if me not in ("0", str(owner.uid)):
            raise InputError(self.dest, f"its files must belong to {owner}, and {self.where} writes as uid {me}; "
                             "nothing was written", f"give --sudo-user {owner.name}")
        q = shlex.quote(self.dest)
        r = self._sh(f"d={q}; while [ ! -e \"$d\" ]; do d=$(dirname -- \"$d\"); done; "
                     "t=$(mktemp -- \"$d/.mastowizard-probe-XXXXXX\") || exit 5; rm -f -- \"$t\"; echo \"$d\"")
        if r.status != 0:
            raise InputError(self.dest, f"is not writable on {self.where} ({r.stderr or 'mktemp failed'}); nothing "
                             "was written", "check the path (PAPERCLIP_ROOT_PATH), its permissions, and --sudo-user")

    def free_bytes(self) -> int | None:
        q = shlex.quote(self.dest)
        r = self._sh(f"d={q}; while [ ! -e \"$d\" ]; do d=$(dirname -- \"$d\"); done; df -Pk -- \"$d\" | tail -n 1")
        try:
            return int(r.stdout.split()[3]) * 1024
        except (IndexError, ValueError):
            return None

    def files(self, with_owner: bool = False) -> Iterator[DiskFile]:
        return remote_files(self.host, self.dest)

    def md5(self, rels: list[str]) -> dict[str, str]:
        if not rels:
            return {}
        r = self._sh(f"cd -- {shlex.quote(self.dest)} && xargs -0 md5sum -z --",
                     b"".join(x.encode() + b"\0" for x in rels))
        out = {}
        for rec in r.stdout.split(b"\0"):
            digest, _, name = rec.partition(b"  ")
            if name:
                out[name.decode("utf-8", "replace")] = digest.decode()
        return out

    def remove(self, rels: list[str]) -> None:
        if rels:
            self._sh(f"cd -- {shlex.quote(self.dest)} && xargs -0 rm -f --", b"".join(x.encode() + b"\0" for x in rels))

    def remove_temps(self, rels: list[str] | None = None) -> None:
        """Every temporary name a TarWriter left (its files are hard links of complete ones by now)."""
        self._sh(f"cd -- {shlex.quote(self.dest)} 2>/dev/null || exit 0; find . -type f -name '{TEMP_GLOB}' -delete")

    def chmod(self, rels: list[str], mode: int) -> None:
        if rels:
            self._sh(f"cd -- {shlex.quote(self.dest)} && xargs -0 chmod {mode:o} --",
                     b"".join(x.encode() + b"\0" for x in rels))

    def read(self, rel: str) -> bytes:
        r = self._sh(f"cat -- {shlex.quote(posixpath.join(self.dest, rel))}")
        if r.status != 0:
            raise OSError(r.stderr or f"cannot read {rel}")
        return r.stdout

    def writer(self, owner: Owner) -> TarWriter:
        self._sh(f"umask 022; [ -d {shlex.quote(self.dest)} ] || mkdir -p -- {shlex.quote(self.dest)}")
        return TarWriter(self.host, self.dest, owner.uid, owner.gid)


def target_for(host, dest: str, env_file: str):
    from .run import over_ssh
    return SshTarget(host, dest, env_file) if over_ssh(host) else LocalTarget(dest, env_file)
