"""`migrate --plan-shards N --out DIR`: the files that run the shards with the engines admins already
run, checked by those engines' own tools: the Kubernetes Job against the Kubernetes API models (no API
server can run here) and its command run once per index with JOB_COMPLETION_INDEX set, as the Job
runs it; the systemd unit with `systemd-analyze verify`; parallel.sh with Debian's GNU parallel, one
shard failing at the server, then rerun: only that shard again, no object written twice."""

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import yaml
from helpers.lab import on

from mastowizard.migrate.fleet import HELM_SYSTEM_PATH, SECRET_NAME
from mastowizard.migrate.shards import Shard
from mastowizard.migrate.shards import parse as parse_shard
from mastowizard_lab import procs
from mastowizard_lab.media_tree import make_tree

SNOWFLAKE_HOURS = 2 ** 16 * 3_600_000
SECRET = "fleet/Secret+0123456789abcdef"


def plan(tmp_path, tree_root, endpoint, bucket, n, lab_info=None, env=None, jobs=8):
    out = tmp_path / "plan"
    args = [sys.executable, "-m", "mastowizard", "migrate", "--plan-shards", str(n), "--out", str(out),
            "--source", str(tree_root), "--bucket", bucket, "--provider", "ceph", "--endpoint", endpoint,
            "--region", "us-east-1", "--addressing", "path", "--permission", "acl", "--verify", "none",
            "--jobs", str(jobs), "--json"]
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MASTOWIZARD_"))}
    clean |= {"AWS_ACCESS_KEY_ID": "AKIAFLEET", "AWS_SECRET_ACCESS_KEY": SECRET, **(env or {})}
    p = subprocess.run(args, env=clean, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert p.returncode == 0 and "Traceback" not in p.stderr, p.stderr
    return out, json.loads(p.stdout)


def test_the_plan_is_what_kubernetes_and_systemd_accept_and_holds_no_secret(tmp_path):
    from kubernetes.client import ApiClient
    tree = make_tree(tmp_path / "system", 300, suspended=2, id_step=SNOWFLAKE_HOURS)
    out, doc = plan(tmp_path, tree.root, "http://127.0.0.1:9", "media-bucket", 4)
    assert sorted(os.listdir(out)) == ["job.yaml", "mastowizard-migrate@.service", "parallel.sh", "plan.json",
                                       "shards.txt",
                                       "writer.env.example"]
    assert (out / "shards.txt").read_text() == "1/4\n2/4\n3/4\n4/4\n"
    assert sum(s["files"] for s in doc["sizes"]) == len(tree.files) and all(s["files"] for s in doc["sizes"])
    for name in os.listdir(out):
        assert SECRET not in (out / name).read_text(), name          # the key is read on each host, never written
    assert os.stat(out / "parallel.sh").st_mode & 0o111

    claim, job = [d for d in yaml.safe_load_all((out / "job.yaml").read_text()) if d]
    api = ApiClient()
    job_model = api._ApiClient__deserialize(job, "V1Job")          # the Kubernetes API's own models
    claim_model = api._ApiClient__deserialize(claim, "V1PersistentVolumeClaim")
    spec = job_model.spec
    assert (spec.completion_mode, spec.completions, spec.backoff_limit_per_index) == ("Indexed", 4, 3)
    assert spec.template.spec.restart_policy == "Never"       # what backoffLimitPerIndex requires
    (c,) = spec.template.spec.containers
    secrets = {e.name: e.value_from.secret_key_ref for e in c.env if e.value_from}
    assert {n: (r.name, r.key) for n, r in secrets.items()} == {
        "AWS_ACCESS_KEY_ID": (SECRET_NAME, "AWS_ACCESS_KEY_ID"),
        "AWS_SECRET_ACCESS_KEY": (SECRET_NAME, "AWS_SECRET_ACCESS_KEY")}
    mounts = {m.mount_path: m for m in c.volume_mounts}
    assert mounts[HELM_SYSTEM_PATH].read_only
    volumes = {v.name: v for v in spec.template.spec.volumes}
    assert volumes["system"].persistent_volume_claim.claim_name == "mastodon-system"
    assert claim_model.spec.access_modes == ["ReadWriteMany"]
    assert api.sanitize_for_serialization(job_model)["spec"]["completionMode"] == "Indexed"

    unit = out / "mastowizard-migrate@.service"
    env_file = tmp_path / "writer.env"
    env_file.write_text("AWS_ACCESS_KEY_ID=x\n")
    checked = tmp_path / "mastowizard-migrate@2.service"      # systemd-analyze verifies an instance of the template
    checked.write_text(unit.read_text().replace("/etc/mastowizard/writer.env", str(env_file))
                       .replace("User=mastodon", "User=nobody"))
    p = subprocess.run(["systemd-analyze", "verify", str(checked)], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and "ExecStart" not in p.stderr, p.stderr


def test_a_second_plan_of_other_shards_is_refused_in_the_same_directory(tmp_path):
    tree = make_tree(tmp_path / "system", 40, suspended=0)
    out, _ = plan(tmp_path, tree.root, "http://127.0.0.1:9", "media-bucket", 4)
    p = subprocess.run([sys.executable, "-m", "mastowizard", "migrate", "--plan-shards", "5", "--out", str(out),
                        "--source", str(tree.root), "--bucket", "media-bucket"], capture_output=True, text=True,
                       timeout=60, stdin=subprocess.DEVNULL)
    lines = p.stderr.strip().splitlines()
    assert p.returncode == 2 and len(lines) == 1 and "--out" in lines[0], p.stderr
    assert (out / "shards.txt").read_text() == "1/4\n2/4\n3/4\n4/4\n"


@pytest.fixture
def clean_env(tmp_path, bucket):
    srv = bucket.server
    home = tmp_path / "home"
    (home / ".config" / "mastowizard").mkdir(parents=True)
    writer = home / ".config" / "mastowizard" / "writer.env"
    writer.write_text(f"AWS_ACCESS_KEY_ID={srv.writer_access_key}\nAWS_SECRET_ACCESS_KEY={srv.writer_secret_key}\n")
    writer.chmod(0o600)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MASTOWIZARD_"))}
    env |= {"HOME": str(home), "XDG_STATE_HOME": str(tmp_path / "state")}
    return env


@on("rgw")
def test_parallel_runs_every_shard_and_a_rerun_redoes_only_the_shard_that_failed(s3server, bucket, prepared,
                                                                                  tmp_path, clean_env):
    from mastowizard_lab.faultproxy import FaultProxy
    procs.ensure_debian(["parallel"], ["parallel"])
    prepared("acl")
    tree = make_tree(tmp_path / "system", 300, suspended=3, id_step=SNOWFLAKE_HOURS)
    n, failing = 3, Shard(2, 3)
    with FaultProxy(urlsplit(s3server.endpoint).port) as proxy:
        out, _ = plan(tmp_path, tree.root, proxy.endpoint, bucket.name, n)
        hosts = tmp_path / "hosts"
        hosts.write_text(":\n")                  # this machine, as GNU parallel names it

        def key_of(req):
            return unquote(req.path).split("/", 2)[2]
        rule = proxy.rule(lambda r: r.method == "PUT" and failing.holds(key_of(r)), "answer", answer=403,
                          code="AccessDenied")
        p = subprocess.run([str(out / "parallel.sh"), str(hosts)], env=clean_env, capture_output=True, text=True,
                           timeout=600)
        assert p.returncode == 1, (p.returncode, p.stderr[-2000:])       # one job failed: parallel says so
        log = [line.split("\t") for line in (out / "joblog").read_text().splitlines()[1:]]
        assert sorted((row[-1].split("--shard ")[1].split()[0], row[6]) for row in log) == [
            ("1/3", "0"), ("2/3", "1"), ("3/3", "0")], log
        results = {json.loads((out / "results" / str(i)).read_text())["shard"]: i for i in (1, 2, 3)}
        assert set(results) == {"1/3", "2/3", "3/3"}
        first = [f for f in proxy.log.forwarded if f[0] == "PUT"]
        proxy.clear()
        assert rule.acted > 0

        p = subprocess.run([str(out / "parallel.sh"), str(hosts)], env=clean_env, capture_output=True, text=True,
                           timeout=600)
        assert p.returncode == 0, p.stderr[-2000:]
        log = [line.split("\t") for line in (out / "joblog").read_text().splitlines()[1:]]
        assert [row[-1].split("--shard ")[1].split()[0] for row in log][3:] == ["2/3"], log    # only the failed one
        puts = [f for f in proxy.log.forwarded if f[0] == "PUT" and f[2] == 200]
    keys = [unquote(urlsplit(path).path).split("/", 2)[2] for _, path, _ in puts]
    assert len(keys) == len(set(keys)) == len(tree.files), (len(keys), len(set(keys)), len(tree.files))
    assert all(failing.holds(k) for _, path, _ in puts[len(first):]
               for k in [unquote(urlsplit(path).path).split("/", 2)[2]])
    listed = bucket.admin_client.list_objects_v2(Bucket=bucket.name)
    assert listed["KeyCount"] == len(tree.files)
    for rel in tree.files[:: max(1, len(tree.files) // 20)]:
        assert bucket.admin_client.get_object(Bucket=bucket.name, Key=rel)["Body"].read() == \
            (tree.root / rel).read_bytes()


@on("rgw")
def test_the_job_runs_each_index_as_kubernetes_would(s3server, bucket, prepared, tmp_path, clean_env):
    """No API server runs here: the Job's own command, for each index, with the env the Job gives
    (JOB_COMPLETION_INDEX, the Secret's two keys, XDG_STATE_HOME on the state claim) and the media
    where the Helm chart mounts it (here the tree's path in its place)."""
    prepared("acl")
    tree = make_tree(tmp_path / "system", 200, suspended=2, id_step=SNOWFLAKE_HOURS)
    n = 3
    out, _ = plan(tmp_path, tree.root, s3server.endpoint, bucket.name, n)
    _, job = [d for d in yaml.safe_load_all((out / "job.yaml").read_text()) if d]
    (c,) = job["spec"]["template"]["spec"]["containers"]
    assert c["command"][:2] == ["sh", "-c"] and HELM_SYSTEM_PATH in c["command"][2]
    script = c["command"][2].replace(HELM_SYSTEM_PATH, str(tree.root))
    srv = bucket.server
    copied = 0
    for index in range(n):
        env = {**clean_env, "JOB_COMPLETION_INDEX": str(index), "XDG_STATE_HOME": str(tmp_path / "state"),
               "AWS_ACCESS_KEY_ID": srv.writer_access_key, "AWS_SECRET_ACCESS_KEY": srv.writer_secret_key,
               "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
        p = subprocess.run(c["command"][:2] + [script], env=env, capture_output=True, text=True, timeout=300)
        assert p.returncode == 0, p.stderr[-2000:]
        doc = json.loads(p.stdout)
        assert doc["shard"] == f"{index + 1}/{n}" and doc["ok"], doc
        copied += doc["copied"]
    assert copied == len(tree.files)
    assert bucket.admin_client.list_objects_v2(Bucket=bucket.name)["KeyCount"] == len(tree.files)


def stored_keys(proxy, since=0) -> list[str]:
    """The keys the server stored (PUT answered 200), in the order it answered."""
    return [unquote(urlsplit(path).path).split("/", 2)[2] for method, path, status in proxy.log.forwarded[since:]
            if method == "PUT" and status == 200]


def status(out, srv) -> dict:
    """`migrate --status --out DIR --json` on the admin's machine (the writer key in its environment)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MASTOWIZARD_"))}
    env |= {"AWS_ACCESS_KEY_ID": srv.writer_access_key, "AWS_SECRET_ACCESS_KEY": srv.writer_secret_key}
    p = subprocess.run([sys.executable, "-m", "mastowizard", "migrate", "--status", "--out", str(out), "--json"],
                       env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert p.returncode in (0, 1) and "Traceback" not in p.stderr, (p.returncode, p.stderr[-2000:])
    doc = json.loads(p.stdout)
    assert (p.returncode == 0) == doc["ok"], (p.returncode, doc)
    return doc


def joblog(out) -> list[tuple[str, int]]:
    """(shard, exit value) of each job GNU parallel ran, in the order it logged them."""
    rows = [line.split("\t") for line in (out / "joblog").read_text().splitlines()[1:]]
    return [(row[-1].split("--shard ")[1].split()[0], int(row[6])) for row in rows]


@on("rgw")
def test_a_fleet_over_ssh_loses_a_host_mid_shard_and_a_rerun_on_the_others_writes_no_object_twice(
        s3server, bucket, prepared, tmp_path):
    """Three app servers (sshd hosts on loopback, each its own user, home and journals) mount the same
    media; GNU parallel runs six shards on them. Host 2 dies (SIGKILL, sshd and all) while its shard
    is half stored. The admin takes it out of the host file and reruns: only the failed shards run,
    on the two others, which have no journal of them: what host 2 stored is kept, not written again."""
    import shutil

    from mastowizard_lab import fleet
    from mastowizard_lab.faultproxy import FaultProxy
    hosts = fleet.start(3)
    prepared("acl")
    media = fleet.media()
    shutil.rmtree(media)
    tree = make_tree(media, 500, suspended=4, id_step=SNOWFLAKE_HOURS)
    uid = hosts[0].home.stat().st_uid
    srv = bucket.server
    for h in hosts:                    # the instance's user owns the media; each host has the key in its home
        subprocess.run(["chown", "-R", f"{uid}:{uid}", str(media)], check=True)
        conf = h.home / ".config" / "mastowizard"
        conf.mkdir(parents=True, exist_ok=True)
        (conf / "writer.env").write_text(f"AWS_ACCESS_KEY_ID={srv.writer_access_key}\n"
                                         f"AWS_SECRET_ACCESS_KEY={srv.writer_secret_key}\n")
        (conf / "writer.env").chmod(0o600)
        shutil.rmtree(h.home / ".local" / "state" / "mastowizard", ignore_errors=True)
        subprocess.run(["chown", "-R", f"{uid}:{uid}", str(h.home / ".config")], check=True)
    admin = tmp_path / "admin"
    # ssh reads the config in the passwd entry's home, not $HOME's; a host column with spaces would
    # break parallel's joblog (--resume-failed refuses it), so the ssh command is PARALLEL_SSH
    ssh = f"ssh -F {fleet.ssh_config(hosts, admin)}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MASTOWIZARD_"))}
    env |= {"HOME": str(admin), "PARALLEL_SSH": ssh}
    n, victim = 6, hosts[1]
    with FaultProxy(urlsplit(s3server.endpoint).port) as proxy:
        # each PUT takes at least 30 ms: a shard of ~80 files on 2 workers stays half done for over a second
        proxy.rule(lambda r: r.method == "PUT", "delay", seconds=0.03)
        out, _ = plan(tmp_path, media, proxy.endpoint, bucket.name, n, jobs=2)
        hostfile = tmp_path / "hosts"
        hostfile.write_text("".join(f"1/{h.name}\n" for h in hosts))      # parallel's --sshloginfile
        run = subprocess.Popen([str(out / "parallel.sh"), str(hostfile)], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
        seen, killed = set(), None
        while killed is None:
            assert run.poll() is None, (f"{victim.name} awaited half-way through a shard; parallel ended first "
                                        f"(rc {run.returncode}); shards seen on it: {seen}")
            for k in fleet.running_shards(victim):
                seen.add(k)
                shard = parse_shard(k)
                if sum(shard.holds(key) for key in stored_keys(proxy)) >= 5:
                    killed = shard
            if killed is None:
                time.sleep(0.02)          # polling the process table, not waiting for time to pass
        fleet.kill(victim)
        before_kill = {key for key in stored_keys(proxy) if killed.holds(key)}
        stdout, stderr = run.communicate(timeout=600)
        assert run.returncode not in (0, None), (run.returncode, stderr[-2000:])
        first = joblog(out)
        failed = sorted(k for k, rc in first if rc != 0)
        assert f"{killed.k}/{n}" in failed and len(failed) < n, first
        shard_files = sum(killed.holds(rel) for rel in tree.files)
        assert 5 <= len(before_kill) < shard_files, (len(before_kill), shard_files)
        st = status(out, srv)
        assert st["ok"] is False and st["states"]["failed"] == len(failed), st
        per = {x["shard"]: x for x in st["per_shard"]}
        assert per[str(killed)]["state"] == "failed" and per[str(killed)]["exit"] != 0, per[str(killed)]
        assert 0 < per[str(killed)]["files_left"] <= shard_files - len(before_kill), per[str(killed)]
        assert all(per[k]["state"] == "done" for k, rc in first if rc == 0), per

        hostfile.write_text("".join(f"1/{h.name}\n" for h in hosts if h is not victim))
        mark = len(proxy.log.forwarded)
        again = subprocess.run([str(out / "parallel.sh"), str(hostfile)], env=env, capture_output=True, text=True,
                               timeout=600)
        assert again.returncode == 0, again.stderr[-2000:]
        assert sorted(k for k, _ in joblog(out)[len(first):]) == failed, joblog(out)      # only what failed
        rerun_keys = stored_keys(proxy, mark)
        proxy.wait_idle()
        every = stored_keys(proxy)
        st = status(out, srv)
        assert st["ok"] and st["files_left"] == 0 and st["states"]["done"] == n, st

    keys = set(tree.files)
    assert len(every) == len(set(every)) == len(keys), (len(every), len(set(every)), len(keys))  # each once
    assert not before_kill & set(rerun_keys), sorted(before_kill & set(rerun_keys))[:3]
    results = [json.loads(p.read_text()) for p in (out / "results").iterdir() if p.name.isdigit()]
    killed_doc = next(d for d in results if d.get("shard") == f"{killed.k}/{n}")
    assert killed_doc["ok"] and killed_doc["adopted"] >= len(before_kill), killed_doc   # all it had stored
    journaled = set()
    for h in hosts:                    # the dead host's disk survives in the lab: its journal is evidence
        for j in (h.home / ".local" / "state" / "mastowizard" / "migrate").glob("*.sqlite"):
            with sqlite3.connect(f"file:{j}?mode=ro", uri=True) as db:
                journaled |= {k for (k,) in db.execute("SELECT key FROM stored")}
    assert journaled == keys, (len(journaled), len(keys))
    listed = {o["Key"]: o["ETag"].strip('"') for page in bucket.admin_client.get_paginator("list_objects_v2")
              .paginate(Bucket=bucket.name) for o in page.get("Contents", [])}
    assert listed == {rel: hashlib.md5((media / rel).read_bytes()).hexdigest() for rel in tree.files}


def test_every_shard_stores_objects_as_the_env_file_says_not_only_as_the_flags_can(tmp_path):
    """An env file whose S3_PERMISSION is private, with a storage class and a multipart threshold: the
    command every engine runs gives each shard the same settings the env file gives `migrate`."""
    import shlex

    from mastowizard.cli.inputs import load_settings
    from mastowizard.cli.main import build_parser
    from mastowizard.migrate.objects import multipart_threshold, spec_for, storage_class
    from mastowizard.settings import from_env
    tree = make_tree(tmp_path / "live" / "public" / "system", 30, suspended=1)
    env = tmp_path / "live" / ".env.production"
    env.write_text("S3_ENABLED=true\nS3_BUCKET=media-bucket\nS3_REGION=eu-central-1\nS3_ENDPOINT=https://s3.example.net\n"
                   "S3_ALIAS_HOST=files.example.net\nS3_PERMISSION=private\nS3_STORAGE_CLASS=STANDARD_IA\n"
                   "S3_MULTIPART_THRESHOLD=52428800\nS3_KEY_PREFIX=media\nAWS_ACCESS_KEY_ID=AKIAFLEET\n"
                   f"AWS_SECRET_ACCESS_KEY={SECRET}\n")
    out = tmp_path / "plan"
    p = subprocess.run([sys.executable, "-m", "mastowizard", "migrate", "--plan-shards", "3", "--out", str(out),
                        "--env-file", str(env), "--json"], capture_output=True, text=True, timeout=120,
                       stdin=subprocess.DEVNULL, env={k: v for k, v in os.environ.items() if not k.startswith("AWS_")})
    assert p.returncode == 0, p.stderr
    wanted = from_env({k: v for k, v in (ln.split("=", 1) for ln in env.read_text().splitlines())}).settings
    unit = (out / "mastowizard-migrate@.service").read_text()
    line = next(ln for ln in unit.splitlines() if ln.startswith("ExecStart="))
    argv = shlex.split(line.split("=", 1)[1])
    assert argv[1:3] == ["migrate", "--shard"]
    args = build_parser().parse_args(["migrate", *argv[4:]])
    got, _, _ = load_settings(args)
    for field in ("bucket", "provider", "region", "endpoint", "addressing", "permission", "alias_host", "key_prefix",
                  "acl"):
        assert getattr(got, field) == getattr(wanted, field), (field, getattr(got, field), getattr(wanted, field))
    assert dict(got.extra_env) == dict(wanted.extra_env) == {"S3_STORAGE_CLASS": "STANDARD_IA",
                                                             "S3_MULTIPART_THRESHOLD": "52428800"}
    rel = next(r for r in tree.files if r not in tree.private)
    assert spec_for(rel, 0o644, got).acl == spec_for(rel, 0o644, wanted).acl == "private"
    assert storage_class(got) == "STANDARD_IA" and multipart_threshold(got) == 52428800
    for name in ("parallel.sh", "job.yaml"):
        text = (out / name).read_text()
        assert "S3_PERMISSION=private" in text and "S3_STORAGE_CLASS=STANDARD_IA" in text, name
        assert SECRET not in text
    bad = subprocess.run([sys.executable, "-m", "mastowizard", "migrate", "--mastodon-env", "AWS_SECRET_ACCESS_KEY=x",
                          "--source", str(tree.root), "--bucket", "media-bucket", "--dry-run", "--yes"],
                         capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
                         env={**os.environ, "AWS_ACCESS_KEY_ID": "AKIAX", "AWS_SECRET_ACCESS_KEY": "y" * 20})
    lines = bad.stderr.strip().splitlines()
    assert bad.returncode == 2 and len(lines) == 1 and "--mastodon-env" in lines[0], bad.stderr


def test_status_reads_parallels_joblog_and_results_as_parallel_writes_them(tmp_path):
    """parallel opens results/{#} when a job starts and logs its row when it ends: no row yet, or a
    results file newer than the row (a rerun under way), is running; a row's exit says done or failed."""
    from mastowizard.migrate.fleet_status import ShardStatus, read_reports
    (tmp_path / "results").mkdir()
    now = time.time()
    head = "Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand\n"
    rows = [(1, now - 100, 10, 0), (2, now - 100, 5, 255), (3, now - 100, 5, 1)]
    (tmp_path / "joblog").write_text(head + "".join(
        f"{k}\thost{k}\t{start:.3f}\t{took:.3f}\t0\t0\t{rc}\t0\tmastowizard migrate --shard {k}/5 --yes --json\n"
        for k, start, took, rc in rows))
    for k, when in ((1, now - 90), (2, now - 95), (3, now - 10), (4, now - 5)):   # 3: started again; 4: first run
        f = tmp_path / "results" / str(k)
        f.write_text(json.dumps({"shard": f"{k}/5", "copied": 40, "seconds": 8.0, "failed": []}) if k == 1 else "")
        os.utime(f, (when, when))
    status = {f"{k}/5": ShardStatus(f"{k}/5", files=50, files_left=0 if k == 1 else 20) for k in range(1, 6)}
    assert read_reports(str(tmp_path), 5, status) == "GNU parallel"
    assert {k: s.state for k, s in status.items()} == {"1/5": "done", "2/5": "failed", "3/5": "running",
                                                       "4/5": "running", "5/5": "partly copied"}
    assert (status["1/5"].copied, status["1/5"].seconds) == (40, 8.0)
