"""Benchmark: copying the media tree of a Mastodon host reached over SSH (the lab's sshd, a real
instance directory owned by the instance's user) into a bucket. Side by side in one run:

- `mastowizard migrate --ssh --transfer tar`: one tar stream over one exec channel;
- `mastowizard migrate --ssh --transfer sftp`: four SFTP sessions on one connection;
- rclone (Debian) from its sftp backend straight into its s3 backend;
- staging, what many admins do: `rsync -a` over ssh to a local directory, then `s5cmd sync`.

    python3 bench/migrate_ssh.py [--files 20000] [--jobs 32]

Same tree, a freshly started Ceph RGW for each way, the first copy and the no-op rerun, and the peak
RSS of the largest process of each way (for staging, also the disk it needs: the whole tree).
"""

from __future__ import annotations

import argparse
import json
import os
import pwd
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from migrate import measure, peers  # noqa: E402

import mastowizard_lab as lab  # noqa: E402
from mastowizard.migrate.objects import CACHE_CONTROL  # noqa: E402
from mastowizard_lab import procs, sshd  # noqa: E402
from mastowizard_lab.media_tree import make_tree  # noqa: E402

WAYS = ("tar", "sftp", "rclone", "staging")


def base_env(srv) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "RCLONE_", "MASTOWIZARD_"))}
    env.update(AWS_ACCESS_KEY_ID=srv.writer_access_key, AWS_SECRET_ACCESS_KEY=srv.writer_secret_key,
               AWS_DEFAULT_REGION=srv.region, AWS_REGION=srv.region, AWS_CONFIG_FILE="/dev/null",
               AWS_SHARED_CREDENTIALS_FILE="/dev/null")
    return env


def steps(way: str, exe: dict, srv, bucket: str, system: Path, jobs: int, state: Path, kh: Path) -> list:
    """The commands of one way, run one after the other: [(argv, env)]."""
    env = base_env(srv)
    login = f"{sshd.MASTODON_USER}@127.0.0.1"
    if way in ("tar", "sftp"):
        env["XDG_STATE_HOME"] = str(state)
        return [([sys.executable, "-m", "mastowizard", "migrate", "--ssh", f"{login}:{sshd.SSH_PORT}",
                  "--identity", str(sshd.client_key()), "--known-hosts", str(kh), "--transfer", way,
                  "--source", str(system), "--bucket", bucket, "--provider", "ceph", "--endpoint", srv.endpoint,
                  "--addressing", "path", "--permission", "acl", "--jobs", str(jobs), "--verify", "none",
                  "--yes", "--json"], env)]
    if way == "rclone":
        env.update(RCLONE_CONFIG=str(state / "rclone.conf"),
                   RCLONE_CONFIG_LAB_TYPE="s3", RCLONE_CONFIG_LAB_PROVIDER="Ceph",
                   RCLONE_CONFIG_LAB_ENDPOINT=srv.endpoint,
                   RCLONE_CONFIG_LAB_ACCESS_KEY_ID=srv.writer_access_key,
                   RCLONE_CONFIG_LAB_SECRET_ACCESS_KEY=srv.writer_secret_key, RCLONE_CONFIG_LAB_ACL="public-read",
                   RCLONE_CONFIG_LAB_REGION=srv.region,
                   RCLONE_CONFIG_HOST_TYPE="sftp", RCLONE_CONFIG_HOST_HOST="127.0.0.1",
                   RCLONE_CONFIG_HOST_PORT=str(sshd.SSH_PORT), RCLONE_CONFIG_HOST_USER=sshd.MASTODON_USER,
                   RCLONE_CONFIG_HOST_KEY_FILE=str(sshd.client_key()), RCLONE_CONFIG_HOST_KNOWN_HOSTS_FILE=str(kh))
        return [([exe["rclone"], "sync", f"host:{system}", f"lab:{bucket}", "--header-upload",
                  f"Cache-Control: {CACHE_CONTROL}", "--transfers", str(jobs), "--checkers", str(2 * jobs),
                  "--fast-list", "--sftp-disable-hashcheck"], env)]
    staged = state / "staged"
    ssh = f"ssh -p {sshd.SSH_PORT} -i {sshd.client_key()} -o UserKnownHostsFile={kh} -o BatchMode=yes"
    return [(["rsync", "-a", "-e", ssh, f"{login}:{system}/", f"{staged}/"], env),
            ([exe["s5cmd"], "--endpoint-url", srv.endpoint, "sync", "--acl", "public-read",
              "--cache-control", CACHE_CONTROL, f"{staged}/", f"s3://{bucket}/"], env)]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=20000)
    ap.add_argument("--jobs", type=int, default=32)
    ap.add_argument("--ways", default=",".join(WAYS))
    args = ap.parse_args()
    exe = peers()
    procs.ensure_debian(["rsync"], ["rsync"])
    sshd.start()
    lab.start("rgw")
    work = Path(tempfile.mkdtemp(prefix="mw-bench-ssh-"))
    os.chmod(work, 0o755)
    kh = work / "known_hosts"
    kh.write_text(sshd.known_hosts_line() + sshd.known_hosts_line("rsa"))
    system = sshd.instance_dir() / "live" / "public" / "system"
    shutil.rmtree(system, ignore_errors=True)
    t = time.monotonic()
    tree = make_tree(system, args.files, max_bytes=120_000, big=2)
    m = pwd.getpwnam(sshd.MASTODON_USER)
    for dirpath, dirs, files in os.walk(system):
        for name in [*dirs, *files]:
            os.chown(os.path.join(dirpath, name), m.pw_uid, m.pw_gid)
    os.chown(system, m.pw_uid, m.pw_gid)
    print(f"tree: {len(tree.files)} files, {tree.bytes / 1e6:.0f} MB on the lab's Mastodon host "
          f"({time.monotonic() - t:.0f}s to make); sshd on 127.0.0.1:{sshd.SSH_PORT}; {args.jobs} workers", flush=True)
    rows = []
    try:
        for way in args.ways.split(","):
            first, again, rss = measure(work, way, lambda srv, bucket, state, way=way: steps(
                way, exe, srv, bucket, system, args.jobs, state, kh))
            row = {"way": way, "first_s": first, "files_per_s": len(tree.files) / first,
                   "mb_per_s": tree.bytes / 1e6 / first, "rerun_s": again, "rerun_share": again / first,
                   "peak_rss_mib": rss / 1024}
            rows.append(row)
            print(f"{way:8} {row['files_per_s']:7.0f} files/s {row['mb_per_s']:6.1f} MB/s  rerun {again:6.2f}s "
                  f"({100 * row['rerun_share']:4.1f}%)  peak RSS {row['peak_rss_mib']:5.0f} MiB", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(system, ignore_errors=True)
        system.mkdir()
        os.chown(system, m.pw_uid, m.pw_gid)
    by = {r["way"]: r for r in rows}
    if "tar" in by and len(by) > 1:
        print("\nmastowizard --transfer tar vs each way (files/s ratio, >1 is faster):")
        for r in rows:
            if r["way"] != "tar":
                print(f"  {r['way']:8} {by['tar']['files_per_s'] / r['files_per_s']:.2f}x")
    print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
