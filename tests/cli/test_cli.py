"""The command line as an admin meets it: one line for bad input, exit 2, never a traceback."""

import json
import os
import subprocess
import sys

import pytest

import mastowizard

SECRET = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY"


def run(*args, env=None, input=None):
    e = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MASTOWIZARD_"))}
    e.update(env or {})
    return subprocess.run([sys.executable, "-m", "mastowizard", *args], capture_output=True, text=True,
                          env=e, input=input, timeout=60, stdin=None if input is not None else subprocess.DEVNULL)


def one_line_error(p, *fragments):
    assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    assert "Traceback" not in p.stderr
    for f in fragments:
        assert f in lines[0], lines[0]
    return lines[0]


def test_version_and_help():
    p = run("--version")
    assert p.returncode == 0 and p.stdout.strip() == f"mastowizard {mastowizard.__version__}"
    p = run("--help")
    assert p.returncode == 0 and "policy" in p.stdout and "probe" in p.stdout
    for cmd in ("policy", "probe", "setup-bucket"):
        p = run(cmd, "--help")
        assert p.returncode == 0
        for flag in ("--env-file", "--bucket", "--provider", "--region", "--endpoint", "--addressing",
                     "--permission", "--alias-host", "--protocol", "--json"):
            assert flag in p.stdout, (cmd, flag)
    assert "--resolve" in run("probe", "--help").stdout and "--ca-bundle" in run("probe", "--help").stdout


@pytest.mark.parametrize("args,fragments", [
    (["policy", "--bucket", "Bad_Name"], ["bucket:", "lowercase"]),
    (["policy", "--bucket", "media", "--provider", "nimbus"], ["provider:", "nimbus"]),
    (["policy", "--bucket", "media", "--region", "eu west"], ["region:"]),
    (["policy", "--bucket", "media", "--provider", "other", "--endpoint", "minio.local:9000"], ["endpoint:", "https://"]),
    (["policy", "--bucket", "media", "--addressing", "dns"], ["addressing:", "path, virtual"]),
    (["policy", "--bucket", "media", "--permission", "public"], ["permission:", "acl, policy"]),
    (["policy", "--bucket", "media", "--alias-host", "https://files.example.com"],
     ["alias-host:", "files.example.com"]),
    (["policy", "--bucket", "media", "--protocol", "gopher"], ["protocol:"]),
    (["policy", "--bucket", "media", "--key-prefix", "/x"], ["key-prefix:"]),
    (["probe", "--bucket", "media", "--resolve", "media.example:443"], ["--resolve", "HOST:PORT:ADDRESS"]),
    (["probe", "--bucket", "media", "--resolve", "media.example:443:not-an-ip"], ["--resolve"]),
    (["probe", "--bucket", "media", "--ca-bundle", "/nonexistent.pem"], ["--ca-bundle"]),
    (["probe", "--frobnicate"], ["usage:", "--help"]),
    (["nosuchcommand"], ["usage:"]),
    (["policy", "--env-file", "/nonexistent/.env.production"], ["--env-file", "does not exist"]),
    (["policy", "--env-file", "/"], ["--env-file", "directory"]),
])
def test_bad_input_is_one_line(args, fragments):
    one_line_error(run(*args), *fragments)


def test_default_env_file_missing_says_how_to_fix(tmp_path):
    """Without --env-file: $MASTOWIZARD_ENV_FILE, else /home/mastodon/live/.env.production (never read
    here: a machine that is a Mastodon host has one)."""
    missing = tmp_path / "live" / ".env.production"
    line = one_line_error(run("probe", env={"MASTOWIZARD_ENV_FILE": str(missing)}), "--env-file")
    assert str(missing) in line and "does not exist" in line, line
    assert "--env-file" in run("probe", "--help").stdout and "$MASTOWIZARD_ENV_FILE" in run("probe", "--help").stdout


def test_env_file_with_local_storage(tmp_path):
    f = tmp_path / ".env.production"
    f.write_text("LOCAL_DOMAIN=example.com\nS3_ENABLED=false\n")
    one_line_error(run("probe", "--env-file", str(f)), "S3_ENABLED", "local disk")


def test_env_file_with_odd_quoting(tmp_path):
    f = tmp_path / ".env.production"
    f.write_text(f"S3_ENABLED=true\nS3_BUCKET='media\nAWS_SECRET_ACCESS_KEY={SECRET}\n")
    line = one_line_error(run("policy", "--env-file", str(f)), "line 2", "quot")
    assert SECRET not in line


def test_unreadable_and_non_utf8_env_files(tmp_path):
    f = tmp_path / ".env.production"
    f.write_bytes(b"S3_BUCKET=\xff\xfe\n")
    one_line_error(run("policy", "--env-file", str(f)), "UTF-8")
    if os.geteuid() != 0:
        f.write_text("S3_ENABLED=true\n")
        f.chmod(0)
        one_line_error(run("policy", "--env-file", str(f)), "permission denied")


def test_policy_from_env_file_masks_nothing_it_should_not_print(tmp_path):
    f = tmp_path / ".env.production"
    f.write_text(f"S3_ENABLED=true\nS3_BUCKET=files-example\nS3_PERMISSION=\nAWS_ACCESS_KEY_ID=AKIAEXAMPLE\n"
                 f"AWS_SECRET_ACCESS_KEY={SECRET}\nS3_ALIAS_HOST=files.example.com\n")
    p = run("policy", "--env-file", str(f), "--json")
    assert p.returncode == 0, p.stderr
    docs = json.loads(p.stdout)
    assert set(docs) == {"bucket_policy", "cors", "writer_policy"}
    assert docs["bucket_policy"]["Statement"][0]["Principal"] == "*"
    assert SECRET not in p.stdout + p.stderr


def test_policy_text_output_names_the_three_documents():
    p = run("policy", "--bucket", "files-example", "--permission", "acl")
    assert p.returncode == 0
    assert "# Bucket policy" in p.stdout and "not needed in ACL mode" in p.stdout
    assert "# CORS configuration" in p.stdout and "# Writer policy" in p.stdout


def test_probe_without_credentials_says_which_variable():
    one_line_error(run("probe", "--bucket", "media"), "AWS_ACCESS_KEY_ID", "export")


def test_setup_bucket_without_admin_credential():
    one_line_error(run("setup-bucket", "--bucket", "media", env={"AWS_ACCESS_KEY_ID": "AKIA",
                                                                 "AWS_SECRET_ACCESS_KEY": SECRET}),
                   "MASTOWIZARD_ADMIN_ACCESS_KEY_ID")


def test_dead_endpoint_is_a_failed_check_not_a_traceback():
    p = run("probe", "--provider", "other", "--endpoint", "http://127.0.0.1:1", "--bucket", "media",
            "--json", env={"AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": SECRET})
    assert p.returncode == 1, p.stderr
    doc = json.loads(p.stdout)
    assert doc["ok"] is False
    bucket = next(c for c in doc["checks"] if c["id"] == "writer.bucket")
    assert bucket["status"] == "fail" and "S3_ENDPOINT" in bucket["fix"]
    assert SECRET not in p.stdout + p.stderr


def test_providers_lists_the_catalog():
    p = run("providers", "--json")
    ids = {x["id"] for x in json.loads(p.stdout)}
    assert {"aws", "r2", "b2", "wasabi", "digitalocean", "scaleway", "ovh", "exoscale", "linode", "hetzner",
            "idrive", "gcs", "minio", "garage", "seaweedfs", "ceph", "other"} <= ids


def test_provider_needing_an_account_id_says_how():
    line = one_line_error(run("policy", "--provider", "r2", "--bucket", "media"), "account-id")
    assert "--endpoint https://ACCOUNT_ID.r2.cloudflarestorage.com" in line
    p = run("policy", "--provider", "r2", "--bucket", "media",
            "--endpoint", "https://abc123.r2.cloudflarestorage.com", "--json")
    assert p.returncode == 0, p.stderr


def test_new_provider_does_not_inherit_the_old_region_and_addressing(tmp_path):
    f = tmp_path / ".env.production"
    f.write_text("S3_ENABLED=true\nS3_BUCKET=media\nS3_REGION=eu-west-1\nAWS_ACCESS_KEY_ID=AKIAOLD\n"
                 f"AWS_SECRET_ACCESS_KEY={SECRET}\n")
    p = run("plan", "--env-file", str(f), "--provider", "other", "--endpoint", "https://rgw.example.net", "--json")
    assert p.returncode == 0, p.stderr
    changes = {c["key"]: c for c in json.loads(p.stdout)["changes"]}
    assert changes["S3_REGION"]["new"] == "us-east-1" and "S3_OVERRIDE_PATH_STYLE" not in changes
    assert changes["S3_ENDPOINT"]["new"] == "https://rgw.example.net"


def _snapshot(d):
    return {p: (p.read_bytes(), p.stat().st_mode) for p in sorted(d.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("args,flag", [
    (["apply", "--ssh", "", "--yes"], "--ssh"),
    (["apply", "--bucket", "", "--yes"], "--bucket"),
    (["rollback", "--ssh", "", "--yes"], "--ssh"),
    (["rollback", "--backup", "", "--yes"], "--backup"),
    (["show", "--ssh", " "], "--ssh"),
    (["plan", "--provider", ""], "--provider"),
    (["check", "--instance", ""], "--instance"),
    (["restart", "--compose", ""], "--compose"),
    (["probe", "--resolve", ""], "--resolve"),
])
def test_an_empty_flag_is_refused_and_nothing_is_written(tmp_path, args, flag):
    """`--ssh ""` once meant this machine: `apply --ssh "" --yes` wrote the local env file."""
    env = tmp_path / ".env.production"
    env.write_text("LOCAL_DOMAIN=example.com\nS3_ENABLED=true\nS3_BUCKET=media\nAWS_ACCESS_KEY_ID=AKIAEXAMPLE\n"
                   f"AWS_SECRET_ACCESS_KEY={SECRET}\n")
    before = _snapshot(tmp_path)
    p = run(*args, "--env-file", str(env), env={"AWS_ACCESS_KEY_ID": "AKIANEW", "AWS_SECRET_ACCESS_KEY": SECRET})
    line = one_line_error(p, flag, "empty")
    assert line.startswith(f"mastowizard: {flag}:")
    assert _snapshot(tmp_path) == before


def test_announce_media_host_adds_only_extra_media_hosts(tmp_path):
    """A week before the switch: the new media host goes into EXTRA_MEDIA_HOSTS (so into the web
    app's Content-Security-Policy), nothing else changes, a rerun changes nothing."""
    env = tmp_path / ".env.production"
    before = "LOCAL_DOMAIN=example.org\nS3_ENABLED=false\nEXTRA_MEDIA_HOSTS=https://old.example.net\n"
    env.write_text(before)
    flags = ["--env-file", str(env), "--provider", "wasabi", "--region", "eu-central-1", "--bucket", "files-example",
             "--alias-host", "files.example.com", "--announce-media-host"]
    p = run("plan", *flags)
    assert p.returncode == 0, p.stderr
    changed = [ln for ln in p.stdout.splitlines() if ln[:1] in "+-" and not ln.startswith(("+++", "---"))]
    assert changed == ["-EXTRA_MEDIA_HOSTS=https://old.example.net",
                       "+EXTRA_MEDIA_HOSTS='https://old.example.net https://files.example.com'"] \
        or changed == ["-EXTRA_MEDIA_HOSTS=https://old.example.net",
                       '+EXTRA_MEDIA_HOSTS="https://old.example.net https://files.example.com"'], p.stdout
    assert "a week" in p.stdout
    p = run("apply", *flags, "--yes")
    assert p.returncode == 0, p.stderr
    after = env.read_text()
    assert after.replace(after.splitlines()[2], "") == before.replace(before.splitlines()[2], "")
    from mastowizard.env.file import parse_values
    assert parse_values(after)["EXTRA_MEDIA_HOSTS"] == "https://old.example.net https://files.example.com"
    assert "nothing to change" in run("plan", *flags).stdout
    one_line_error(run("plan", "--env-file", str(env), "--announce-media-host"), "settings flags")
