"""What the bucket probes' tests share: a lab bucket's settings for a mode, its writer and admin
keys, the failing checks (each must name its fix), and the probe objects left behind."""

from __future__ import annotations

from mastowizard.net import HttpOptions
from mastowizard.s3.credential import Credential
from mastowizard.secrets import Secret
from mastowizard.settings import Settings


def settings_for(b, permission, https=False, **over):
    srv = b.server
    base = b.media_https_base if https else b.media_http_base
    kw = dict(bucket=b.name, provider="ceph" if srv.name == "rgw" else "other", region=srv.region,
              endpoint=srv.endpoint, addressing="path", permission=permission,
              alias_host=base.split("://")[1], protocol="https" if https else "http")
    kw.update(over)
    return Settings.build(**kw)


def http_options(bucket, lab_info):
    return HttpOptions.build(lab_info.resolve(), lab_info.ca_pem)


def writer(srv, secret=None):
    return Credential(srv.writer_access_key, Secret(secret or srv.writer_secret_key))


def admin(srv):
    return Credential(srv.admin_access_key, Secret(srv.admin_secret_key))


def verdict(checks):
    return {c.id: c.status for c in checks}


def failing(checks):
    bad = [c for c in checks if c.status in ("fail", "warn")]
    assert all(c.fix for c in bad), [c.id for c in bad if not c.fix]   # every failure names its fix
    return {c.id for c in checks if c.status == "fail"}


def leftover_probe_keys(bucket):
    s3 = bucket.admin_client
    return [o["Key"] for o in s3.list_objects_v2(Bucket=bucket.name).get("Contents", [])
            if "mastowizard-probe" in o["Key"]]
