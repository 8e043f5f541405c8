"""The demo lab: everything a newcomer needs to walk the wizard's whole path on one machine.

Starts Ceph RGW, nginx and the SSH lab's instance (`/var/lib/mastowizard-lab/instance/live`, with
some existing media on disk and the systemctl stand-in that restarts the Mastodon stand-in on
127.0.0.1:17030), creates a demo bucket served at https://demo-media.rgw.media.test:17443, and
returns a wizard session prefilled with it, the lab's throwaway credentials included (held as
secrets: the wizard shows them masked).
"""

from __future__ import annotations

import json
import os
import pwd

from . import buckets, nginx, rgw, sshd
from .config import NGINX_HTTPS_PORT

BUCKET = "demo-media"
TOKEN = "demo-token-write-media"


def prepare():
    from mastowizard.s3client import Credential
    from mastowizard.secrets import Secret
    from mastowizard.session import Answers, Session

    srv = rgw.start()
    nginx.start()
    sshd.start()
    try:
        buckets.create_bucket(srv, BUCKET)
    except Exception:  # noqa: BLE001 - it exists from an earlier demo
        pass
    env = sshd.env_file()
    if "S3_ENABLED=true" not in env.read_text():
        env.write_text("# demo instance\nLOCAL_DOMAIN=demo.example\nS3_ENABLED=false\n"
                       "SECRET_KEY_BASE=demosecretkeybase0123456789abcdef0123456789\n")
    old = env.parent / "public" / "system" / "media_attachments" / "files" / "109" / "876" / "543" / "original"
    old.mkdir(parents=True, exist_ok=True)
    (old / "0123456789abcdef.png").write_bytes(b"\x89PNG demo media from before the move")
    m = pwd.getpwnam(sshd.MASTODON_USER)
    for root, dirs, files in os.walk(env.parent):
        for name in dirs + files:
            os.chown(os.path.join(root, name), m.pw_uid, m.pw_gid)
    os.chown(env, m.pw_uid, m.pw_gid)
    (sshd.shared() / "state" / "lab.json").write_text(json.dumps({"tokens": {TOKEN: "read write"}}))
    os.environ["PATH"] = f"{sshd.shared() / 'bin'}:{os.environ.get('PATH', '')}"
    answers = Answers(env_file=str(env), provider="ceph", bucket=BUCKET, endpoint=srv.endpoint, region=srv.region,
                      alias_host=f"{nginx.media_host('rgw', BUCKET)}:{NGINX_HTTPS_PORT}", protocol="https",
                      access_key_id=srv.writer_access_key, instance=f"http://127.0.0.1:{sshd.MASTODON_PORT}",
                      resolve=[f"*.media.test:{NGINX_HTTPS_PORT}:127.0.0.1"], ca_bundle=str(nginx.ca_pem()))
    return Session(answers, secret_access_key=Secret(srv.writer_secret_key),
                   admin=Credential(srv.admin_access_key, Secret(srv.admin_secret_key)), token=Secret(TOKEN))
