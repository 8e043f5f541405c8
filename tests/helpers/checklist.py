"""What the checklist's tests share: a lab instance (the Mastodon stand-in with an env file for a
bucket and mode) that runs the checklist, and the failing checks (each must name its fix)."""

from __future__ import annotations

import pytest

from mastowizard.checklist.context import Context
from mastowizard.checklist.runner import run_checks
from mastowizard.env.file import parse_values
from mastowizard.net import HttpOptions
from mastowizard.s3.bucket_setup import setup_bucket
from mastowizard.s3.credential import Credential
from mastowizard.secrets import Secret
from mastowizard.settings import Settings, from_env
from mastowizard_lab import mastodon as lab_mastodon

PORT = 17032
TOKENS = {"good-token": "read write", "no-media-token": "read write:statuses"}


class Lab:
    def __init__(self, tmp_path, bucket, lab_info, permission):
        self.tmp, self.bucket, self.lab_info, self.permission = tmp_path, bucket, lab_info, permission
        self.live = tmp_path / "live"
        self.live.mkdir(exist_ok=True)
        self.env_file = self.live / ".env.production"
        self.run = None

    def env_text(self, alias=None, **extra) -> str:
        srv = self.bucket.server
        text = (f"LOCAL_DOMAIN=lab.example\nS3_ENABLED=true\nS3_BUCKET={self.bucket.name}\nS3_REGION={srv.region}\n"
                f"S3_ENDPOINT={srv.endpoint}\nS3_HOSTNAME={srv.endpoint.split('://')[1]}\nS3_PROTOCOL=https\n"
                f"S3_ALIAS_HOST={alias or self.bucket.media_https_base.split('://')[1]}\n"
                f"S3_PERMISSION={'public-read' if self.permission == 'acl' else ''}\n"
                f"AWS_ACCESS_KEY_ID={srv.writer_access_key}\nAWS_SECRET_ACCESS_KEY={srv.writer_secret_key}\n")
        return text + "".join(f"{k}={v}\n" for k, v in extra.items())

    def settings(self) -> Settings:
        srv = self.bucket.server
        return Settings.build(bucket=self.bucket.name, provider="ceph" if srv.name == "rgw" else "other",
                              endpoint=srv.endpoint, permission=self.permission,
                              alias_host=self.bucket.media_https_base.split("://")[1])

    def setup(self, **env_extra):
        setup_bucket(self.settings(), Credential(self.bucket.server.admin_access_key,
                                                 Secret(self.bucket.server.admin_secret_key)))
        self.env_file.write_text(self.env_text(**env_extra))

    def start(self, **lab):
        self.run = lab_mastodon.start(self.env_file, PORT, self.tmp / "state", TOKENS, **lab)

    def check(self, token="good-token", instance=None, poll_timeout=5.0, old_urls=()):
        values = parse_values(self.env_file.read_text())
        error = fix = None
        settings, notes = None, []
        try:
            r = from_env(values)
            settings, notes = r.settings, list(r.notes)
        except Exception as e:  # noqa: BLE001 - a bad value is what the settings check reports
            error, fix = f"{e.field}: {e.message}", e.fix
        writer = Credential(self.bucket.server.writer_access_key, Secret(self.bucket.server.writer_secret_key))
        http = HttpOptions.build(self.lab_info.resolve(), self.lab_info.ca_pem)
        ctx = Context(settings, writer, instance or self.run.url, Secret(token) if token else None, http,
                      settings_error=error,
                      settings_fix=fix or "", notes=notes, poll_timeout=poll_timeout, old_urls=list(old_urls))
        return run_checks(ctx)

    def stop(self):
        if self.run:
            self.run.stop()
            self.run = None


def once(mode: str = "acl"):
    """For a case that is the instance's, the media host's or the settings', the same on every S3
    server and in both modes: run once (RGW, MODE), not generated four times and skipped."""
    def mark(test):
        return pytest.mark.parametrize("lab", [mode], indirect=True)(
            pytest.mark.parametrize("s3server", ["rgw"], indirect=True)(test))
    return mark


def failing(checks):
    bad = [c for c in checks if c.status == "fail"]
    assert all(c.fix for c in bad)
    return {c.id for c in bad}


def by_id(checks):
    return {c.id: c for c in checks}
