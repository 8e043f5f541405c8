"""Benchmark: a huge instance's copy split in shards (issue 28). A Mastodon-shaped tree of 200,000
small files (generated cheaply, ids spread as snowflakes so the shards balance) is copied into a
fresh bucket on one Ceph RGW by 1, 2 and 4 shard workers at once (`migrate --shard K/W`, each its
own process as each host would run it, the same --jobs in total), and, side by side, by the s5cmd
export of the same shards (`s5cmd run` of DIR/s5cmd/K.txt, the same W at once) and by rclone.

    python3 bench/fleet.py [--files 200000] [--jobs 32] [--workers 1,2,4] [--peer-workers 1]
                           [--tools mastowizard,s5cmd,rclone] [--tree DIR]

For each: the wall seconds of the slowest worker, files/s, and each worker's peak RSS. The machine
has the cores it has: RGW, the workers and the tools share them, so more workers only help while the
cores are not all busy; the report says the machine's core count next to the figures.
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
sys.path.insert(0, str(ROOT / "bench"))

from migrate import commands, peers  # noqa: E402

import mastowizard_lab as lab  # noqa: E402
from mastowizard_lab import buckets, rgw  # noqa: E402
from mastowizard_lab.media_tree import make_tree  # noqa: E402

SNOWFLAKE_HOURS = 2 ** 16 * 3_600_000


def env_for(srv, state: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "RCLONE_", "MASTOWIZARD_"))}
    env.update(AWS_ACCESS_KEY_ID=srv.writer_access_key, AWS_SECRET_ACCESS_KEY=srv.writer_secret_key,
               AWS_REGION=srv.region, XDG_STATE_HOME=str(state))
    return env


def at_once(argvs: list[list[str]], env: dict) -> tuple[float, list[int]]:
    """Start every command together; the wall seconds until the last ends, and each one's peak RSS (KiB)."""
    t = time.monotonic()
    procs = [subprocess.Popen(a, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env) for a in argvs]
    rss = []
    for p, a in zip(procs, argvs, strict=True):
        err = p.stderr.read()
        _, status, usage = os.wait4(p.pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"{' '.join(a[:6])} failed:\n{err.decode(errors='replace')[-2000:]}")
        rss.append(usage.ru_maxrss)
    return time.monotonic() - t, rss


def fresh_bucket(label: str):
    rgw.stop()                 # every run gets the same empty server (memstore keeps deleted space a while)
    srv = rgw.start()
    bucket = f"fleet-{label[:8]}-{uuid.uuid4().hex[:6]}"
    buckets.create_bucket(srv, bucket)
    return srv, bucket


def migrate_argv(srv, bucket: str, tree: Path, jobs: int, shard: str | None) -> list[str]:
    return [sys.executable, "-m", "mastowizard", "migrate", "--source", str(tree), "--bucket", bucket,
            "--provider", "ceph", "--endpoint", srv.endpoint, "--addressing", "path", "--permission", "acl",
            "--jobs", str(jobs), "--verify", "none", "--yes", "--json", *(["--shard", shard] if shard else [])]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=200_000)
    ap.add_argument("--jobs", type=int, default=32, help="workers in total, shared by the shards")
    ap.add_argument("--workers", default="1,2,4")
    ap.add_argument("--peer-workers", default="1", help="s5cmd's worker counts (rclone runs once, whole)")
    ap.add_argument("--tools", default="mastowizard,s5cmd,rclone")
    ap.add_argument("--tree", help="reuse this tree (made by an earlier run) instead of a temporary one")
    args = ap.parse_args()
    exe = peers()
    lab.start("rgw")
    work = Path(tempfile.mkdtemp(prefix="mw-bench-fleet-"))
    root = Path(args.tree) if args.tree else work / "system"
    t = time.monotonic()
    if not (root.exists() and any(root.iterdir())):
        make_tree(root, args.files, max_bytes=4_000, suspended=20, id_step=SNOWFLAKE_HOURS)
    files = sum(len(f) for _, _, f in os.walk(root))
    size = sum(os.path.getsize(os.path.join(d, n)) for d, _, fs in os.walk(root) for n in fs)
    print(f"tree: {files} files, {size / 1e6:.0f} MB ({time.monotonic() - t:.0f}s to make or read); "
          f"{os.cpu_count()} cores shared by Ceph RGW, the workers and the tools; {args.jobs} workers in total",
          flush=True)
    rows = []
    for tool in args.tools.split(","):
        counts = {"mastowizard": args.workers, "s5cmd": args.peer_workers}.get(tool, "1")
        for w in [int(x) for x in counts.split(",")]:
            srv, bucket = fresh_bucket(f"{tool}{w}")
            state = work / f"state-{tool}-{w}"
            state.mkdir()
            env = env_for(srv, state)
            try:
                if tool == "mastowizard":       # one worker is the plain copy; more are its shards
                    argvs = [migrate_argv(srv, bucket, root, max(1, args.jobs // w), f"{k}/{w}" if w > 1 else None)
                             for k in range(1, w + 1)]
                elif tool == "s5cmd":
                    plan = work / f"plan-{w}"
                    p = subprocess.run([sys.executable, "-m", "mastowizard", "migrate", "--plan-shards", str(w),
                                        "--out", str(plan), "--s5cmd", "--source", str(root), "--bucket", bucket,
                                        "--provider", "ceph", "--endpoint", srv.endpoint, "--addressing", "path",
                                        "--permission", "acl", "--json"], env=env, capture_output=True, text=True)
                    if p.returncode != 0:
                        raise SystemExit(p.stderr[-2000:])
                    argvs = [[exe["s5cmd"], "--endpoint-url", srv.endpoint, "--numworkers",
                              str(max(1, args.jobs // w)), "run", str(plan / "s5cmd" / f"{k}.txt")]
                             for k in range(1, w + 1)]
                else:
                    argv, env = commands("rclone", exe, srv, bucket, root, args.jobs, state)
                    argvs = [argv]
                took, rss = at_once(argvs, env)
                listed = sum(len(page.get("Contents", [])) for page in buckets.admin_client(srv)
                             .get_paginator("list_objects_v2").paginate(Bucket=bucket))
            finally:
                buckets.empty_and_delete_bucket(srv, bucket)
            if listed != files:
                raise SystemExit(f"{tool} with {w} worker(s) left {listed} objects of {files}")
            row = {"tool": tool, "workers": w, "seconds": took, "files_per_s": files / took,
                   "peak_rss_mib_each": max(rss) / 1024}
            rows.append(row)
            print(f"{tool:12} {w} worker(s)  {took:7.1f}s  {row['files_per_s']:6.0f} files/s  "
                  f"peak RSS {row['peak_rss_mib_each']:4.0f} MiB each", flush=True)
    shutil.rmtree(work, ignore_errors=True)
    one = {r["tool"]: r["files_per_s"] for r in rows if r["workers"] == 1}
    print("\nscaling (files/s against the same tool with 1 worker):")
    for r in rows:
        if r["workers"] > 1 and r["tool"] in one:
            print(f"  {r['tool']:12} {r['workers']} workers: {r['files_per_s'] / one[r['tool']]:.2f}x")
    mw = {r["workers"]: r["files_per_s"] for r in rows if r["tool"] == "mastowizard"}
    if mw:
        print("mastowizard against each peer at the same workers (files/s ratio, >1 is faster):")
        for r in rows:
            if r["tool"] != "mastowizard" and r["workers"] in mw:
                print(f"  {r['tool']:12} {r['workers']} worker(s): {mw[r['workers']] / r['files_per_s']:.2f}x")
    print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
