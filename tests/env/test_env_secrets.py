"""No secret appears in any output of show, plan, apply or rollback, nor in an error."""

import json
import os
import subprocess
import sys

import pytest

OLD = {
    "SECRET_KEY_BASE": "skb0123456789abcdef0123456789abcdef0123456789",
    "OTP_SECRET": "otp0123456789abcdef0123456789abcdef",
    "AWS_SECRET_ACCESS_KEY": "OldAwsSecret/0123456789+abcdefghij",
    "SMTP_PASSWORD": "smtp-Passw0rd-long-enough",
    "DB_PASS": "dbpass-0123456789",
    "VAPID_PRIVATE_KEY": "vapidPrivateKey0123456789abcdef=",
    "ACTIVE_RECORD_ENCRYPTION_PRIMARY_KEY": "arPrimaryKey0123456789abcdefXYZ",
}
NEW_SECRET = "NewWriterSecret/ABCDEFGH+0123456789xyz"
ALL = list(OLD.values()) + [NEW_SECRET]


def run(*args, env=None):
    e = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MASTOWIZARD_"))}
    e.update(env or {})
    return subprocess.run([sys.executable, "-m", "mastowizard", *args], capture_output=True, text=True,
                          env=e, timeout=60, stdin=subprocess.DEVNULL)


def leaks(p) -> list[str]:
    text = p.stdout + p.stderr
    found = [s for s in ALL if s in text]
    # no long piece of a secret either (masking shows 4 characters at most)
    for s in ALL:
        for i in range(len(s) - 7):
            if s[i:i + 8] in text and s not in found:
                found.append(s[i:i + 8])
    return found


NOBODY = "http://127.0.0.1:9"         # the discard port: nothing listens, a connection is refused at once


@pytest.fixture
def env_file(tmp_path):
    f = tmp_path / ".env.production"
    # both buckets' endpoints refuse at once on 127.0.0.1: the switch's gap is measured and unknown
    f.write_text("LOCAL_DOMAIN=secrets.example\nS3_ENABLED=true\nS3_BUCKET=old-bucket\nAWS_ACCESS_KEY_ID=AKIAOLD\n"
                 f"S3_ENDPOINT={NOBODY}\n"
                 + "".join(f"{k}={v}\n" for k, v in OLD.items()))
    return f


ARGS = ["--provider", "wasabi", "--region", "eu-central-1", "--endpoint", NOBODY, "--bucket", "new-bucket",
        "--alias-host", "m.example"]
CREDS = {"AWS_ACCESS_KEY_ID": "AKIANEW", "AWS_SECRET_ACCESS_KEY": NEW_SECRET}


def test_show_plan_apply_rollback_never_print_secrets(env_file):
    outputs = [
        run("show", "--env-file", str(env_file)),
        run("show", "--env-file", str(env_file), "--json"),
        run("plan", "--env-file", str(env_file), *ARGS, env=CREDS),
        run("plan", "--env-file", str(env_file), *ARGS, "--json", env=CREDS),
        run("apply", "--env-file", str(env_file), *ARGS, "--accept-missing-media", "unchecked", "--yes", env=CREDS),
        run("plan", "--env-file", str(env_file), "--permission", "policy", "--json"),
        run("apply", "--env-file", str(env_file), "--permission", "policy", "--yes", "--json"),
        run("rollback", "--env-file", str(env_file), "--yes"),
        run("rollback", "--env-file", str(env_file), "--yes", "--json"),
    ]
    for p in outputs:
        assert p.returncode == 0, p.stderr
        assert leaks(p) == [], (p.args, leaks(p))
    plan = json.loads(outputs[3].stdout)
    secret = next(c for c in plan["changes"] if c["key"] == "AWS_SECRET_ACCESS_KEY")
    assert secret == {"key": "AWS_SECRET_ACCESS_KEY", "action": "change", "old": "****ghij", "new": "****9xyz",
                      "line": 8, "secret": True}
    assert "+AWS_SECRET_ACCESS_KEY=****9xyz" in outputs[2].stdout
    assert NEW_SECRET in env_file.read_text() or "OldAwsSecret" in env_file.read_text()


def test_errors_never_print_secrets(env_file, tmp_path):
    bad = tmp_path / "bad.env"
    bad.write_text(f"AWS_SECRET_ACCESS_KEY='{NEW_SECRET}\nOTP_SECRET={OLD['OTP_SECRET']}\n")
    refused = dict(CREDS, AWS_SECRET_ACCESS_KEY=NEW_SECRET + "' # $x")
    outputs = [
        run("plan", "--env-file", str(bad), *ARGS, env=CREDS),
        run("apply", "--env-file", str(env_file), *ARGS, "--yes", env=refused),
        run("apply", "--env-file", str(env_file), *ARGS, env=CREDS),
        run("rollback", "--env-file", str(env_file), "--backup", str(tmp_path / "none"), "--yes"),
        run("plan", "--env-file", str(env_file), *ARGS, env={"AWS_SECRET_ACCESS_KEY": NEW_SECRET}),
    ]
    for p in outputs:
        assert p.returncode == 2, (p.args, p.stdout, p.stderr)
        assert len(p.stderr.strip().splitlines()) == 1, p.stderr
        assert leaks(p) == [], (p.args, leaks(p))


URL_SECRET = "UrlSecret0123456789abcdefXYZ"
TOKEN = "tok-0123456789abcdefghijkl"


def test_userinfo_in_an_endpoint_is_masked_in_show_and_plan(tmp_path):
    """`show` once printed S3_ENDPOINT=https://KEY:SECRET@host as it was."""
    f = tmp_path / ".env.production"
    f.write_text("LOCAL_DOMAIN=secrets.example\nS3_ENABLED=true\nS3_BUCKET=media\n"
                 f"S3_ENDPOINT=https://AKIAURL:{URL_SECRET}@s3.example.com\nS3_ALIAS_HOST=m.example\n")
    for args in (["show"], ["show", "--json"], ["plan", *ARGS], ["plan", "--json", *ARGS]):
        p = run(*args, "--env-file", str(f), env=CREDS)
        text = p.stdout + p.stderr
        assert URL_SECRET[:8] not in text and "AKIAURL:" not in text, (args, text)
    p = run("show", "--env-file", str(f))
    assert "S3_ENDPOINT=https://****@s3.example.com" in p.stdout


@pytest.mark.parametrize("as_json", [False, True])
def test_a_token_in_the_instance_url_is_refused_and_not_shown(tmp_path, as_json):
    """A token in the instance URL's userinfo was printed in the /health row; now such a URL is
    refused up front (credentials never go in a URL), and the refusal does not show it either."""
    f = tmp_path / ".env.production"
    f.write_text("LOCAL_DOMAIN=x.example\nS3_ENABLED=true\nS3_BUCKET=media\nS3_REGION=us-east-1\n"
                 "S3_ENDPOINT=http://127.0.0.1:9\nS3_ALIAS_HOST=127.0.0.1:9\nAWS_ACCESS_KEY_ID=AKIAEX\n"
                 f"AWS_SECRET_ACCESS_KEY={NEW_SECRET}\n")
    p = run("check", "--env-file", str(f), "--instance", f"http://admin:{TOKEN}@127.0.0.1:9",
            *(["--json"] if as_json else []), env={"MASTODON_ACCESS_TOKEN": TOKEN})
    text = p.stdout + p.stderr
    assert p.returncode == 2 and p.stdout == "" and len(p.stderr.strip().splitlines()) == 1, text
    assert "--instance" in p.stderr and "credentials in the URL" in p.stderr
    assert TOKEN[:10] not in text and "admin:" not in text and NEW_SECRET[:8] not in text
