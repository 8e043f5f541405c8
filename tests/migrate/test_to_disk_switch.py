"""`plan --to-disk` and `apply --to-disk`: S3_ENABLED=false through the env file's plan and apply
(diff with secrets masked, backup, atomic write, rollback byte for byte), guarded like the switch
to S3: while objects in the bucket are not on disk, the count is said and only the typed count
goes ahead, never --yes alone. Then the nginx block the copy prints, served by the lab's nginx."""

import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from helpers.lab import on
from test_to_disk import copy_as_mastodon, instance, run_to_disk

from mastowizard.host.local import LocalHost
from mastowizard.migrate.gap import gap_before_restart
from mastowizard.migrate.media_nginx import media_host_nginx
from mastowizard.settings import from_env
from mastowizard_lab.media_tree import make_tree


def cli(*args):
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MASTOWIZARD_"))}
    p = subprocess.run([sys.executable, "-m", "mastowizard", *args], env=clean, capture_output=True, text=True,
                       timeout=120, stdin=subprocess.DEVNULL)
    assert "Traceback" not in p.stderr, p.stderr
    return p


@on("rgw")
def test_the_switch_back_is_one_line_guarded_by_the_typed_count_and_rolled_back_byte_for_byte(
        s3server, bucket, prepared, tmp_path):
    s = prepared("acl")
    tree = make_tree(tmp_path / "source", 40, suspended=2)
    copy_as_mastodon(bucket, s, tree)
    env, system = instance(tmp_path, bucket)
    secret = bucket.server.writer_secret_key
    lines = env.read_text().splitlines(keepends=True)       # the secret right below S3_ENABLED: in the diff
    secret_line = next(ln for ln in lines if ln.startswith("AWS_SECRET_ACCESS_KEY="))
    lines.remove(secret_line)
    lines.insert(2, secret_line)
    env.write_text("".join(lines))
    original = env.read_bytes()
    n = len(tree.files)

    p = cli("plan", "--to-disk", "--env-file", str(env))
    assert p.returncode == 0 and "-S3_ENABLED=true" in p.stdout and "+S3_ENABLED=false" in p.stdout, p.stdout
    assert secret not in p.stdout and secret[-4:] in p.stdout       # masked, its last four shown
    assert [ln for ln in p.stdout.splitlines() if ln.startswith(("+", "-")) and not ln.startswith(("+++", "---"))] \
        == ["-S3_ENABLED=true", "+S3_ENABLED=false"]
    assert env.read_bytes() == original

    # nothing on disk yet: --yes alone is refused, naming the count; a wrong count too
    for extra in ((), ("--accept-missing-media", str(n - 1))):
        p = cli("apply", "--to-disk", "--env-file", str(env), "--yes", *extra)
        lines = p.stderr.strip().splitlines()
        assert p.returncode == 2 and len(lines) == 1 and f"--accept-missing-media {n}" in lines[0], p.stderr
        assert f"{n} of {n} object(s) in bucket {bucket.name}" in p.stdout and "404" in p.stdout, p.stdout
        assert env.read_bytes() == original
    assert not [x for x in os.listdir(env.parent) if ".before-s3" in x]

    # the exact count goes ahead; rollback restores the file byte for byte
    p = cli("apply", "--to-disk", "--env-file", str(env), "--accept-missing-media", str(n))
    assert p.returncode == 0 and "backup:" in p.stdout, (p.stdout, p.stderr)
    gap = gap_before_restart(LocalHost(), str(env))       # the restart asks again: the bucket of the backup
    assert gap is not None and (gap.missing, gap.token) == (n, str(n)), gap
    assert f"{n} of {n} object(s) in bucket {bucket.name}" in gap.lines()[0], gap.lines()
    p = cli("rollback", "--env-file", str(env), "--yes")
    assert p.returncode == 0 and env.read_bytes() == original, p.stderr

    # copied back: the switch goes ahead on --yes, and only S3_ENABLED changed
    p, doc = run_to_disk(env, "--yes", "--json")
    assert p.returncode == 0 and doc["ok"], doc
    p = cli("apply", "--to-disk", "--env-file", str(env), "--yes")
    assert p.returncode == 0 and f"all {n} object(s)" in p.stdout, (p.stdout, p.stderr)
    after = env.read_text()
    assert after == original.decode().replace("S3_ENABLED=true", "S3_ENABLED=false")
    assert os.stat(env).st_uid == os.stat(env.parent).st_uid          # same owner, as apply keeps it
    gap = gap_before_restart(LocalHost(), str(env))
    assert gap is not None and gap.safe and gap.files == n, gap
    backups = sorted(x for x in os.listdir(env.parent) if ".before-s3" in x)
    assert (env.parent / backups[-1]).read_bytes() == original
    p = cli("plan", "--to-disk", "--env-file", str(env))
    assert p.returncode == 0 and "nothing to change" in p.stdout
    p = cli("rollback", "--env-file", str(env), "--yes")
    assert p.returncode == 0 and env.read_bytes() == original
    p = cli("plan", "--to-disk", "--env-file", str(env), "--bucket", "other")
    assert p.returncode == 2 and "--bucket" in p.stderr and "--to-disk" in p.stderr


def _site(name, server_name, body):
    from mastowizard_lab import nginx
    f = nginx.root() / "sites" / f"{name}.conf"
    f.write_text(body)
    nginx.reload()            # nginx -t on the whole configuration first (write_config)
    return f


@on("rgw")
def test_the_nginx_block_keeps_the_old_media_urls_answering_from_disk(s3server, bucket, prepared, tmp_path,
                                                                      lab_info, anon_http, request):
    """The block migrate --to-disk prints, as printed but for the lab's ports and certificate, in the
    lab's nginx: every old URL answers the file's bytes with Mastodon's headers; private files do not
    answer; with S3_KEY_PREFIX the prefix is stripped."""
    from mastowizard_lab import nginx
    from mastowizard_lab.config import HOST
    for prefix in (None, "pfx"):
        s = prepared("acl", prefix=prefix)
        tree = make_tree(tmp_path / f"source-{prefix}", 30, suspended=2)
        copy_as_mastodon(bucket, s, tree)
        www = Path(tempfile.mkdtemp(dir="/var/tmp", prefix="mw-todisk-"))       # nginx's workers reach it
        www.chmod(0o755)
        request.addfinalizer(lambda www=www: shutil.rmtree(www, ignore_errors=True))
        env, _ = instance(tmp_path / f"i-{prefix}", bucket, extra=(f"S3_KEY_PREFIX={prefix}\n" if prefix else "")
                          + f"PAPERCLIP_ROOT_PATH={www}/system\n", owner=pwd.getpwnam("daemon"))  # not nginx's user
        system = www / "system"
        p, doc = run_to_disk(env, "--yes", "--json")
        assert p.returncode == 0 and doc["ok"], doc
        old_host = f"old-{bucket.name}.lab.test"
        settings = from_env({**dict(line.split("=", 1) for line in env.read_text().splitlines()),
                             "S3_ALIAS_HOST": old_host}).settings
        cert = nginx.root().parent / "ca"
        text = media_host_nginx(settings, str(system), listen=(f"{HOST}:{lab_info.https_port} ssl",),
                                certificate=str(cert / "media.pem"), certificate_key=str(cert / "media.key"))
        assert text == media_host_nginx(settings, str(system)).replace(
            "    listen 443 ssl;\n    listen [::]:443 ssl;", f"    listen {HOST}:{lab_info.https_port} ssl;").replace(
            f"/etc/letsencrypt/live/{old_host}/fullchain.pem", str(cert / "media.pem")).replace(
            f"/etc/letsencrypt/live/{old_host}/privkey.pem", str(cert / "media.key"))
        mime = "server {\n    include /etc/nginx/mime.types;"        # Debian's http block has it
        site = _site(f"todisk-{bucket.name}", old_host, text.replace("server {", mime, 1))
        try:
            base = f"https://{old_host}:{lab_info.https_port}"
            for rel in tree.files:
                r = anon_http.get(f"{base}/{s.key(rel)}")
                if rel in tree.private:
                    assert r.status_code in (403, 404), (rel, r.status_code)
                    continue
                assert r.status_code == 200 and r.content == (tree.root / rel).read_bytes(), (rel, r.status_code)
                assert r.headers["access-control-allow-origin"] == "*"
                assert r.headers["cache-control"] == "public, max-age=315576000, immutable"
                assert r.headers["x-content-type-options"] == "nosniff"
            r = anon_http.options(f"{base}/{s.key(tree.files[0])}", headers={"Origin": "https://lab.example",
                                                                            "Access-Control-Request-Method": "GET"})
            assert r.status_code == 204 and r.headers["access-control-allow-origin"] == "*"
            assert anon_http.get(f"{base}/{s.key('media_attachments/')}").status_code in (403, 404)
            if prefix:
                assert anon_http.get(f"{base}/{tree.files[0]}").status_code == 404     # only under the prefix
            else:
                _check_to_disk(env, system, tree, old_host, lab_info, cert, bucket)
        finally:
            site.unlink()
            nginx.reload()


def _check_to_disk(env, system, tree, old_host, lab_info, cert, bucket):
    """`check --to-disk` after the switch: the instance's nginx serves /system/ from disk (as Mastodon's
    dist/nginx.conf does), the old media host is the block above; then a file gone from disk fails."""
    from mastowizard_lab import nginx
    from mastowizard_lab.config import HOST
    port = lab_info.https_port
    media = bucket.media_https_base.split("://")[1]
    env.write_text(env.read_text().replace(f"S3_ALIAS_HOST={media}", f"S3_ALIAS_HOST={old_host}:{port}"))
    p = cli("apply", "--to-disk", "--env-file", str(env), "--yes")
    assert p.returncode == 0, (p.stdout, p.stderr)
    inst = f"inst-{bucket.name}.lab.test"
    site = _site(f"todisk-inst-{bucket.name}", inst,
                 f"server {{\n    listen {HOST}:{port} ssl;\n    server_name {inst};\n"
                 f"    ssl_certificate {cert / 'media.pem'};\n    ssl_certificate_key {cert / 'media.key'};\n"
                 f"    location /system/ {{\n        alias {system}/;\n    }}\n}}\n")
    flags = [f for pin in lab_info.resolve() for f in ("--resolve", pin)] + ["--ca-bundle", lab_info.ca_pem]
    args = ["check", "--to-disk", "--env-file", str(env), "--instance", f"https://{inst}:{port}", "--json", *flags]
    try:
        p = cli(*args)
        doc = json.loads(p.stdout)
        got = {c["id"]: c["status"] for c in doc["checks"]}
        assert p.returncode == 0 and set(got.values()) == {"pass"} and len(got) == 4, (got, doc)
        served = next(c for c in doc["checks"] if c["id"] == "disk.served")
        assert f"https://{inst}:{port}/system/" in served["detail"], served
        gone = next(r for r in tree.files if r not in tree.private)
        (system / gone).unlink()
        p = cli(*args)
        doc = json.loads(p.stdout)
        files = next(c for c in doc["checks"] if c["id"] == "disk.files")
        assert p.returncode == 1 and files["status"] == "fail" and "1 of" in files["detail"], files
    finally:
        site.unlink()
        nginx.reload()
