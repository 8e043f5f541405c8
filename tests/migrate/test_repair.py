"""`mastowizard repair-permissions` against the lab's real S3 servers: buckets damaged as admins
damaged theirs (rclone's default private ACL and its X-Amz-Meta-Mtime; a few objects flipped by
hand), repaired, then every object checked independently: its ACL as the owner reads it, its
headers, and what a stranger gets through the media host."""

import json
import os
import signal
import subprocess
import sys
from urllib.parse import unquote, urlsplit

from helpers.lab import on
from helpers.migrate import ALL_USERS, copy_as_mastodon, env_file, rclone_copy, settings_for

from mastowizard.migrate.objects import CACHE_CONTROL, content_type
from mastowizard.migrate.repair import repair
from mastowizard.s3.credential import Credential
from mastowizard.secrets import Secret
from mastowizard_lab.media_tree import make_tree


def run_repair(env, *extra, wait=True):
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MASTOWIZARD_"))}
    args = [sys.executable, "-m", "mastowizard", "repair-permissions", "--env-file", str(env), *extra]
    if not wait:
        return subprocess.Popen(args, env=clean, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL, text=True)
    p = subprocess.run(args, env=clean, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert "Traceback" not in p.stderr, p.stderr
    return p, (json.loads(p.stdout) if "--json" in extra and p.stdout.strip() else None)


def public_acl(admin, bucket, key) -> bool:
    grants = admin.get_object_acl(Bucket=bucket.name, Key=key)["Grants"]
    return any(g["Grantee"].get("URI") == ALL_USERS and g["Permission"] == "READ" for g in grants)


def archives(tree) -> set[str]:
    return {r for r in tree.files if r.startswith(("backups/", "imports/"))}


def test_a_bucket_rclone_left_private_is_suspect_and_repaired_only_as_chosen(bucket, prepared, anon_http, tmp_path):
    prepared("acl")
    tree = make_tree(tmp_path / "system", 120, suspended=5)
    rclone_copy(tree.root, bucket)
    admin = bucket.admin_client
    avatar = next(r for r in tree.files if r.startswith("accounts/avatars/"))
    assert "mtime" in admin.head_object(Bucket=bucket.name, Key=avatar)["Metadata"]     # rclone's, as admins found it
    assert anon_http.get(f"{bucket.media_https_base}/{avatar}").status_code == 403
    env = env_file(tmp_path, bucket, "acl")

    p, doc = run_repair(env, "--dry-run", "--json")
    assert p.returncode == 0 and doc["dry_run"], p.stderr
    plan = doc["plan"]
    assert plan["suspect"] and plan["listed"] == len(tree.files)
    attachments = [r for r in tree.files if r.startswith(("media_attachments/", "cache/media_attachments/"))]
    assert plan["keep_private"] == len(attachments)            # nothing decided for them yet
    assert not public_acl(admin, bucket, avatar)               # a dry run changes nothing

    p, _ = run_repair(env, "--yes")
    assert p.returncode == 2 and "--private-media" in p.stderr and "suspect" in p.stdout, (p.stdout, p.stderr)
    assert not public_acl(admin, bucket, avatar)               # refused: nothing changed

    p, doc = run_repair(env, "--private-media", "public", "--headers", "--yes", "--json")
    assert p.returncode == 0 and doc["ok"], (doc, p.stderr)
    assert doc["made_public"] == len(tree.files) - len(archives(tree))
    assert doc["made_private"] == 0 and doc["headers_fixed"] == len(tree.files)
    for rel in tree.files:
        head = admin.head_object(Bucket=bucket.name, Key=rel)
        assert head["ContentType"] == content_type(rel) and head["CacheControl"] == CACHE_CONTROL, rel
        assert head["Metadata"] == {}, (rel, head["Metadata"])             # rclone's mtime is gone
        assert public_acl(admin, bucket, rel) == (rel not in archives(tree)), rel
        r = anon_http.get(f"{bucket.media_https_base}/{rel}")
        assert r.status_code == (403 if rel in archives(tree) else 200), (rel, r.status_code)

    p, doc = run_repair(env, "--private-media", "public", "--headers", "--yes", "--json")
    assert p.returncode == 0 and doc["plan"]["to_public"] == doc["plan"]["headers"] == 0, doc
    p, _ = run_repair(env, "--yes")
    assert p.returncode == 0 and "nothing to change" in p.stdout, p.stdout


def test_a_mastodon_bucket_keeps_suspended_media_private_and_fixes_what_was_flipped(bucket, prepared, anon_http,
                                                                                  tmp_path):
    s = prepared("acl")
    tree = make_tree(tmp_path / "system", 120, suspended=5)
    copy_as_mastodon(bucket, s, tree)
    admin = bucket.admin_client
    avatars = [r for r in tree.files if r.startswith("accounts/")][:2]
    backup = next(r for r in tree.files if r.startswith("backups/"))
    for rel in avatars:
        admin.put_object_acl(Bucket=bucket.name, Key=rel, ACL="private")
    admin.put_object_acl(Bucket=bucket.name, Key=backup, ACL="public-read")
    suspended = set(tree.private) - archives(tree)

    p, doc = run_repair(env_file(tmp_path, bucket, "acl"), "--yes", "--json")
    assert p.returncode == 0 and doc["ok"], (doc, p.stderr)
    assert not doc["plan"]["suspect"]
    assert (doc["made_public"], doc["made_private"]) == (2, 1)
    assert doc["plan"]["keep_private"] == len(suspended)
    for rel in tree.files:
        r = anon_http.get(f"{bucket.media_https_base}/{rel}")
        private = rel in suspended or rel in archives(tree)
        assert r.status_code == (403 if private else 200), (rel, r.status_code)


def test_objects_that_vanish_or_are_replaced_during_the_repair_are_counted_not_failed(bucket, prepared, tmp_path):
    """Between the survey and the changes (the question is the moment), Mastodon deletes two objects
    and writes a new one under a third key: the repair goes on, and the new object is left as it is."""
    s = prepared("acl")
    tree = make_tree(tmp_path / "system", 60, suspended=0)
    rclone_copy(tree.root, bucket)
    srv = bucket.server
    admin = bucket.admin_client
    public = [r for r in tree.files if r.startswith("accounts/")]
    gone, replaced = public[:2], public[2]

    def meanwhile(question: str) -> None:
        assert "readable by anyone" in question and "never made public" in question
        for rel in gone:
            admin.delete_object(Bucket=bucket.name, Key=rel)
        admin.put_object(Bucket=bucket.name, Key=replaced, Body=b"new", ContentType="text/plain")

    result = repair(s, Credential(srv.writer_access_key, Secret(srv.writer_secret_key)), None, headers=True,
                    private_media="public", confirm=meanwhile, jobs=8)
    assert result.ok, result.to_json()
    assert result.vanished == 2 and result.replaced_meanwhile == 1
    assert admin.get_object(Bucket=bucket.name, Key=replaced)["ContentType"] == "text/plain"   # untouched
    assert result.made_public == len(tree.files) - len(archives(tree)) - 3


@on("rgw")
def test_a_repair_killed_midway_resumes_without_setting_anything_twice(s3server, bucket, prepared, tmp_path):
    from mastowizard_lab.faultproxy import FaultProxy
    prepared("acl")
    tree = make_tree(tmp_path / "system", 80, suspended=0)
    rclone_copy(tree.root, bucket)
    acl_put = lambda r: r.method == "PUT" and r.query in ("acl", "acl=")          # noqa: E731

    def set_keys(proxy) -> list[str]:
        return [unquote(urlsplit(t).path).split("/", 2)[2] for m, t, st in proxy.log.forwarded
                if m == "PUT" and urlsplit(t).query in ("acl", "acl=") and st == 200]

    with FaultProxy(urlsplit(s3server.endpoint).port) as proxy:
        env = env_file(tmp_path, bucket, "acl", endpoint=proxy.endpoint)
        proxy.rule(acl_put, "request", after=20)
        proc = run_repair(env, "--private-media", "public", "--yes", "--jobs", "4", wait=False)
        proxy.wait_held(1, alive=lambda: proc.poll() is None)
        proxy.wait_idle()
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        assert len(set_keys(proxy)) == 20
        proxy.clear()
        p, doc = run_repair(env, "--private-media", "public", "--yes", "--json")
        assert p.returncode == 0 and doc["ok"], (doc, p.stderr)
        keys = set_keys(proxy)
        assert len(keys) == len(set(keys)), "an ACL was set twice"
        assert len(keys) == len(tree.files) - len(archives(tree))


def test_seaweedfs_refuses_the_writer_and_ignores_acls_and_the_repair_says_so(seaweed_bucket, tmp_path, anon_http):
    """SeaweedFS refuses PUT ?acl to a key without its Admin action: the repair stops after the first
    refusals, naming the permission, instead of failing every object. With the admin's key it takes
    x-amz-acl and ignores it: nothing set public-read becomes readable, and the repair says why."""
    bucket = seaweed_bucket
    s = settings_for(bucket, "acl")
    tree = make_tree(tmp_path / "system", 40, suspended=0)
    copy_as_mastodon(bucket, s, tree)
    avatar = next(r for r in tree.files if r.startswith("accounts/"))
    assert anon_http.get(f"{bucket.media_https_base}/{avatar}").status_code == 403
    env = env_file(tmp_path, bucket, "acl")
    p, doc = run_repair(env, "--private-media", "keep", "--yes", "--json", "--jobs", "2")
    assert p.returncode == 1 and not doc["ok"], doc
    assert "AccessDenied" in doc["aborted"] and "s3:PutObjectAcl" in doc["aborted"], doc
    assert doc["failed_count"] < doc["plan"]["to_public"]                 # stopped, not every object failed
    p, _ = run_repair(env, "--private-media", "keep", "--yes")
    assert "repair stopped" in p.stdout and "s3:PutObjectAcl" in p.stdout, p.stdout

    srv = bucket.server
    env.write_text(env.read_text().replace(srv.writer_access_key, srv.admin_access_key)
                   .replace(srv.writer_secret_key, srv.admin_secret_key))
    p, doc = run_repair(env, "--private-media", "keep", "--yes", "--json")
    assert p.returncode == 1 and not doc["ok"], doc
    assert avatar in {x["key"] for x in doc["still_unreadable"]}, doc
    assert "ignores object ACLs (use policy mode)" in doc["still_unreadable"][0]["error"]


@on("rgw")
def test_a_bucket_policy_that_exposes_backups_is_named_not_hidden(s3server, bucket, prepared, anon_http, tmp_path):
    """ACL mode, but someone added a policy that lets anyone read the whole bucket: the backup set
    private is still readable, and the repair says the policy is why."""
    s = prepared("acl")
    tree = make_tree(tmp_path / "system", 30, suspended=0)
    copy_as_mastodon(bucket, s, tree)
    backup = next(r for r in tree.files if r.startswith("backups/"))
    bucket.admin_client.delete_public_access_block(Bucket=bucket.name)     # setup_bucket blocks public policies
    bucket.admin_client.put_bucket_policy(Bucket=bucket.name, Policy=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                                               "Resource": f"arn:aws:s3:::{bucket.name}/*"}]}))
    assert anon_http.get(f"{bucket.media_https_base}/{backup}").status_code == 200
    p, doc = run_repair(env_file(tmp_path, bucket, "acl"), "--yes", "--json")
    assert p.returncode == 1 and not doc["ok"], doc
    assert sorted(x["key"] for x in doc["still_exposed"]) == sorted(archives(tree))     # in completion order
    assert "a bucket policy grants it" in doc["still_exposed"][0]["error"]


@on("rgw")
def test_policy_mode_sets_no_acl_and_fixes_the_headers(s3server, bucket, prepared, anon_http, tmp_path):
    prepared("policy")
    tree = make_tree(tmp_path / "system", 40, suspended=0)
    rclone_copy(tree.root, bucket)
    env = env_file(tmp_path, bucket, "policy")
    p, doc = run_repair(env, "--headers", "--yes", "--json")
    assert p.returncode == 0 and doc["ok"], (doc, p.stderr)
    assert doc["made_public"] == doc["made_private"] == 0 and doc["headers_fixed"] == len(tree.files)
    admin = bucket.admin_client
    for rel in tree.files:
        head = admin.head_object(Bucket=bucket.name, Key=rel)
        assert head["CacheControl"] == CACHE_CONTROL and head["Metadata"] == {}, rel
    p, _ = run_repair(env, "--dry-run")
    assert "no ACLs (policy mode)" in p.stdout and "nothing was changed" in p.stdout


def test_bad_input_is_one_line_and_nothing_is_read(tmp_path):
    env = tmp_path / ".env.production"
    env.write_text("LOCAL_DOMAIN=lab.example\n")
    p, _ = run_repair(env, "--yes")
    assert p.returncode == 2 and p.stderr.count("\n") == 1 and "S3_ENABLED" in p.stderr and "--env-file" in p.stderr
    p, _ = run_repair(env, "--jobs", "0")
    assert p.returncode == 2 and "--jobs" in p.stderr

