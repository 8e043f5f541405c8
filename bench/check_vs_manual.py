"""Benchmark: `mastowizard check` against the lab, side by side in one run with the same steps done
the manual way (the curl and aws CLI commands an admin would type).

    python3 bench/check_vs_manual.py [--runs 5] [--latency 40]

Starts what it needs (Ceph RGW, nginx, the Mastodon stand-in), sets up a correct ACL-mode bucket,
then times each way RUNS times and prints median and spread of wall time, and peak memory.
--latency MS puts every server behind a delay line on 127.0.0.1 (MS of round trip, half each way),
as a provider, media host and instance across a network are: both ways go through the same lines.
The aws CLI lives in its own venv under the lab directory (it pins its own botocore).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import mastowizard_lab as lab  # noqa: E402
from mastowizard.checklist.titles import TITLES  # noqa: E402
from mastowizard.checklist.upload_chain import TEST_JPEG  # noqa: E402
from mastowizard.s3.bucket_setup import setup_bucket  # noqa: E402
from mastowizard.s3.credential import Credential  # noqa: E402
from mastowizard.secrets import Secret  # noqa: E402
from mastowizard.settings import Settings  # noqa: E402
from mastowizard_lab import buckets  # noqa: E402
from mastowizard_lab import mastodon as lab_mastodon  # noqa: E402
from mastowizard_lab.config import NGINX_HTTPS_PORT, home  # noqa: E402
from mastowizard_lab.delayline import DelayLine  # noqa: E402
from mastowizard_lab.nginx import ca_pem, media_host  # noqa: E402

PORT = 17033
TOKEN = "bench-token"
PEAK = {"rss": 0}   # the largest resident set of one process of the way being measured, KiB


def sh(argv: list[str], env: dict, check: bool = True) -> str:
    """Run a command and keep its own peak RSS (os.wait4 gives it per process)."""
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    out, err = p.stdout.read(), p.stderr.read()
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    PEAK["rss"] = max(PEAK["rss"], usage.ru_maxrss)
    if check and p.returncode != 0:
        raise SystemExit(f"{argv[0]} failed ({p.returncode}):\n{out}\n{err}")
    return out


def aws_cli() -> str:
    venv = home() / "awscli-venv"
    exe = venv / "bin" / "aws"
    if not exe.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", "awscli"],
                       check=True)
    return str(exe)


def manual_steps(aws: str, srv, bucket: str, alias: str, instance: str, jpeg: Path) -> list[list[str]]:
    """The manual procedure, one command per step, in the order an admin runs them."""
    pin = ["--resolve", f"{alias}:127.0.0.1", "--cacert", str(ca_pem())]
    s3 = [aws, "--endpoint-url", srv.endpoint, "s3api"]
    probe = f"media_attachments/files/manual-probe-{uuid.uuid4().hex[:8]}.txt"
    return [
        s3 + ["head-bucket", "--bucket", bucket],
        s3 + ["put-object", "--bucket", bucket, "--key", probe, "--body", str(jpeg), "--acl", "public-read"],
        s3 + ["get-object", "--bucket", bucket, "--key", probe, os.devnull],
        s3 + ["delete-object", "--bucket", bucket, "--key", probe],
        ["curl", "-s", "-o", os.devnull, "-w", "%{http_code}", *pin, f"https://{alias}/"],
        ["curl", "-s", "-o", os.devnull, "-w", "%{http_code}", f"{srv.endpoint}/{bucket}?list-type=2"],
        ["curl", "-s", "-o", os.devnull, "-w", "%{http_code}", "-X", "PUT", "--data", "x",
         f"{srv.endpoint}/{bucket}/anon-probe.txt"],
        ["curl", "-s", "-o", os.devnull, "-w", "%{http_code}", f"{instance}/health"],
        ["curl", "-s", "-H", f"Authorization: Bearer {TOKEN}", "-F", f"file=@{jpeg};type=image/jpeg",
         f"{instance}/api/v2/media"],
        # the next steps take the upload's URLs and id from the previous answer (filled in at run time)
    ]


def run_manual(aws: str, srv, bucket: str, alias: str, instance: str, jpeg: Path, env: dict) -> None:
    out = None
    for argv in manual_steps(aws, srv, bucket, alias, instance, jpeg):
        out = sh(argv, env)
    media = json.loads(out)
    pin = ["--resolve", f"{alias}:127.0.0.1", "--cacert", str(ca_pem())]
    for url in (media["url"], media["preview_url"]):
        key = url.split("/", 3)[3]
        sh([aws, "--endpoint-url", srv.endpoint, "s3api", "head-object", "--bucket", bucket, "--key", key], env)
        sh(["curl", "-s", "-I", "-H", "Origin: https://example.invalid", *pin, url], env)
    sh(["curl", "-s", "-X", "DELETE", "-H", f"Authorization: Bearer {TOKEN}",
        f"{instance}/api/v1/media/{media['id']}"], env)


def run_tool(env_file: Path, instance: str, alias: str, env: dict) -> None:
    argv = [sys.executable, "-m", "mastowizard", "check", "--env-file", str(env_file), "--instance", instance,
            "--json", "--ca-bundle", str(ca_pem()), "--resolve", f"{alias}:127.0.0.1"]
    sh(argv, env)


def measure(fn, runs: int) -> tuple[list[float], int]:
    times = []
    PEAK["rss"] = 0
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times, PEAK["rss"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--latency", type=float, default=0, metavar="MS", help="round trip added to every server")
    args = ap.parse_args()
    srv = lab.start("rgw")
    lab.start("nginx")
    lines = contextlib.ExitStack()

    def far(port: int) -> int:
        """PORT itself, or a delay line's in front of it."""
        if not args.latency:
            return port
        return lines.enter_context(DelayLine(port, args.latency / 1000)).port
    rgw_port = int(srv.endpoint.rsplit(":", 1)[1])
    srv = dataclasses.replace(srv, endpoint=f"http://127.0.0.1:{far(rgw_port)}")
    aws = aws_cli()
    name = f"mw-bench-{uuid.uuid4().hex[:6]}"
    buckets.create_bucket(srv, name)
    tmp = Path(tempfile.mkdtemp(prefix="mw-bench-"))
    run = None
    try:
        alias = f"{media_host(srv.name, name)}:{far(NGINX_HTTPS_PORT)}"
        s = Settings.build(bucket=name, provider="ceph", endpoint=srv.endpoint, permission="acl", alias_host=alias)
        setup_bucket(s, Credential(srv.admin_access_key, Secret(srv.admin_secret_key)))
        env_file = tmp / ".env.production"
        env_file.write_text(
            f"LOCAL_DOMAIN=bench.example\nS3_ENABLED=true\nS3_BUCKET={name}\nS3_REGION={srv.region}\n"
            f"S3_ENDPOINT={srv.endpoint}\nS3_HOSTNAME={srv.endpoint.split('://')[1]}\nS3_ALIAS_HOST={alias}\n"
            f"S3_PERMISSION=public-read\nAWS_ACCESS_KEY_ID={srv.writer_access_key}\n"
            f"AWS_SECRET_ACCESS_KEY={srv.writer_secret_key}\n")
        run = lab_mastodon.start(env_file, PORT, tmp / "state", {TOKEN: "read write"})
        instance = f"http://127.0.0.1:{far(PORT)}"
        jpeg = tmp / "test.jpg"
        jpeg.write_bytes(TEST_JPEG)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MASTODON_"))}
        env.update(MASTODON_ACCESS_TOKEN=TOKEN, AWS_ACCESS_KEY_ID=srv.writer_access_key,
                   AWS_SECRET_ACCESS_KEY=srv.writer_secret_key, AWS_DEFAULT_REGION=srv.region,
                   AWS_REQUEST_CHECKSUM_CALCULATION="when_required",
                   AWS_RESPONSE_CHECKSUM_VALIDATION="when_required")
        # warm both once (imports, caches), then measure alternately-run sets
        run_tool(env_file, instance, alias, env)
        run_manual(aws, srv, name, alias, instance, jpeg, env)
        tool, tool_rss = measure(lambda: run_tool(env_file, instance, alias, env), args.runs)
        manual, manual_rss = measure(lambda: run_manual(aws, srv, name, alias, instance, jpeg, env), args.runs)
    finally:
        lines.close()
        if run:
            run.stop()
        buckets.empty_and_delete_bucket(srv, name)
    steps = len(manual_steps("aws", srv, name, "a:1", "http://x", Path("x"))) + 5
    where = f", {args.latency:g} ms round trip to each" if args.latency else ""
    print(f"against Ceph RGW + nginx + the Mastodon stand-in{where}, {args.runs} runs each")
    print(f"{'way':44} {'median s':>9} {'min s':>7} {'max s':>7} {'peak RSS MiB':>13}")
    for label, times, rss in (
            (f"mastowizard check ({len(TITLES)} checks, one process)", tool, tool_rss),
            (f"manual: curl + aws CLI ({steps} commands)", manual, manual_rss)):
        print(f"{label:44} {statistics.median(times):9.2f} {min(times):7.2f} {max(times):7.2f} {rss / 1024:13.1f}")
    print(f"ratio: mastowizard check takes {statistics.median(tool) / statistics.median(manual):.2f}x the manual "
          "commands' time")
    print("(the manual way checks less: no anonymous-list/put verdicts, no CORS rating, no backups/ probe, none "
          "of Mastodon's jobs: multipart, ranged reads, batch deletes, lifecycle)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
