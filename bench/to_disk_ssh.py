"""Benchmark: how `migrate --to-disk --ssh` writes files on the Mastodon host (the lab's sshd), the
S3 side left out: the same files, each atomically under its real name, written

- `tar`: one tar stream over one exec channel into `tar -x` (disk_writers.TarWriter: each file under
  a temporary name, hard-linked to its real name), through sudo as the instance's user;
- `sftp`: one SFTP session, each file written under a temporary name (pipelined), chmod, then
  posix-rename: a round trip or more per file, and only as the login user (SFTP does not go through sudo).

Then the whole command end to end (bucket on Ceph RGW -> disk), on this machine and over SSH.

    python3 bench/to_disk_ssh.py [--files 2000] [--size 20000] [--jobs 16]
"""

from __future__ import annotations

import argparse
import json
import os
import pwd
import random
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import mastowizard_lab as lab  # noqa: E402
from mastowizard.host.connect import open_host  # noqa: E402
from mastowizard_lab import buckets, sshd  # noqa: E402


def host(user: str, sudo: str | None, kh: Path):
    from mastowizard.secrets import Secret
    return open_host(f"{user}@127.0.0.1:{sshd.SSH_PORT}", known_hosts=str(kh), identity=str(sshd.client_key()),
                     sudo_user=sudo, sudo_password=Secret(sshd.ADMIN_PASSWORD) if sudo else None)


def files(n: int, size: int) -> list[tuple[str, bytes]]:
    rng = random.Random(1)
    return [(f"media_attachments/files/109/000/{i // 1000:03d}/{i % 1000:03d}/original/{i:016x}.jpg",
             rng.randbytes(size)) for i in range(n)]


def by_tar(h, dest: str, items, uid: int, gid: int) -> float:
    from mastowizard.migrate.dest_tree import sh
    from mastowizard.migrate.disk_writers import TarWriter
    sh(h, f"mkdir -p {dest}")
    t = time.monotonic()
    w = TarWriter(h, dest, uid, gid)
    for rel, data in items:
        w.put(rel, 0o644, data=data)
    w.finish()
    sh(h, f"cd {dest} && find . -type f -name '.*.mastowizard-*.tmp' -delete")
    return time.monotonic() - t


def by_sftp(h, dest: str, items) -> float:
    import posixpath
    sftp = h.client.open_sftp()
    t = time.monotonic()
    made = set()
    for rel, data in items:
        path = posixpath.join(dest, rel)
        d = posixpath.dirname(path)
        if d not in made:
            parts = d.split("/")
            for i in range(2, len(parts) + 1):
                p = "/".join(parts[:i])
                if p not in made:
                    try:
                        sftp.mkdir(p, 0o755)
                    except OSError:
                        pass
                    made.add(p)
        tmp = posixpath.join(d, f".{posixpath.basename(path)}.mastowizard-00000000.tmp")
        with sftp.open(tmp, "wb") as f:
            f.set_pipelined(True)
            f.write(data)
        sftp.chmod(tmp, 0o644)
        sftp.posix_rename(tmp, path)
    sftp.close()
    return time.monotonic() - t


def end_to_end(n: int, jobs: int, kh: Path, work: Path) -> dict:
    from mastowizard.migrate.copy import copy_tree
    from mastowizard.s3.credential import Credential
    from mastowizard.secrets import Secret
    from mastowizard.settings import Settings
    from mastowizard_lab.media_tree import make_tree
    srv = lab.start("rgw")
    name = f"mw-bench-{uuid.uuid4().hex[:8]}"
    buckets.create_bucket(srv, name)
    out = {}
    try:
        s = Settings.build(bucket=name, provider="ceph", region=srv.region, endpoint=srv.endpoint,
                           addressing="path", permission="policy", protocol="https")
        tree = make_tree(work / "source", n, suspended=0, max_bytes=60_000)
        copy_tree(s, Credential(srv.writer_access_key, Secret(srv.writer_secret_key)), str(tree.root), jobs=32)
        m = pwd.getpwnam(sshd.MASTODON_USER)
        for way in ("local", "ssh"):
            live = (work / "live") if way == "local" else sshd.instance_dir() / "bench-todisk"
            shutil.rmtree(live, ignore_errors=True)
            (live / "public").mkdir(parents=True)
            env = live / ".env.production"
            env.write_text(f"S3_ENABLED=true\nS3_BUCKET={name}\nS3_REGION={srv.region}\nS3_ENDPOINT={srv.endpoint}\n"
                           f"AWS_ACCESS_KEY_ID={srv.writer_access_key}\nAWS_SECRET_ACCESS_KEY={srv.writer_secret_key}\n")
            for p in (live, live / "public", env):
                os.chown(p, m.pw_uid, m.pw_gid)
            args = [sys.executable, "-m", "mastowizard", "migrate", "--to-disk", "--env-file", str(env), "--yes",
                    "--json", "--jobs", str(jobs)]
            if way == "ssh":
                args += ["--ssh", f"{sshd.ADMIN_USER}@127.0.0.1:{sshd.SSH_PORT}", "--identity", str(sshd.client_key()),
                         "--known-hosts", str(kh), "--sudo-user", sshd.MASTODON_USER]
            clean = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MASTOWIZARD_"))}
            clean["MASTOWIZARD_SUDO_PASSWORD"] = sshd.ADMIN_PASSWORD
            t = time.monotonic()
            p = subprocess.run(args, env=clean, capture_output=True, text=True, stdin=subprocess.DEVNULL)
            wall = time.monotonic() - t
            doc = json.loads(p.stdout)
            assert doc["ok"], p.stderr[-2000:]
            out[way] = {"files": doc["copied"], "copy_seconds": doc["seconds"],
                        "files_per_s": round(doc["copied"] / doc["seconds"]), "wall_seconds": round(wall, 2)}
            shutil.rmtree(live, ignore_errors=True)
    finally:
        buckets.empty_and_delete_bucket(srv, name)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=2000)
    ap.add_argument("--size", type=int, default=20_000)
    ap.add_argument("--jobs", type=int, default=16)
    a = ap.parse_args()
    sshd.start()
    work = Path("/var/tmp") / f"mw-bench-todisk-{os.getpid()}"
    work.mkdir()
    kh = work / "known_hosts"
    kh.write_text(sshd.known_hosts_line())
    m = pwd.getpwnam(sshd.MASTODON_USER)
    items = files(a.files, a.size)
    dest = str(sshd.instance_dir() / "bench-dest")
    result = {}
    try:
        for way in ("tar", "sftp"):
            shutil.rmtree(dest, ignore_errors=True)
            h = host(sshd.MASTODON_USER, None, kh) if way == "sftp" else host(sshd.ADMIN_USER, sshd.MASTODON_USER, kh)
            try:
                secs = by_tar(h, dest, items, m.pw_uid, m.pw_gid) if way == "tar" else by_sftp(h, dest, items)
            finally:
                h.close()
            result[way] = {"files": a.files, "seconds": round(secs, 2), "files_per_s": round(a.files / secs)}
        shutil.rmtree(dest, ignore_errors=True)
        result["end_to_end"] = end_to_end(a.files, a.jobs, kh, work)
    finally:
        shutil.rmtree(dest, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
