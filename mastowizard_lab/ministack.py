"""MiniStack from PyPI with AUTH=true: AWS's current defaults (Block Public Access on, ACLs disabled).

It pins botocore, so it lives in its own venv under the lab home. Its root keys accept any
secret, so the writer is an IAM user whose keys are checked for real.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from pathlib import Path

from . import procs
from .config import HOST, MINISTACK_PORT, REGION, home, tools
from .info import ServerInfo

ROOT_KEY, ROOT_SECRET = "test", "test"
WRITER_USER = "mastodon-writer"

CAPABILITIES = {
    "acl": True,
    "default_block_public_access": True,
    "default_acls_disabled": True,
    "ownership_controls": True,
    "block_public_access_api": True,
    "bucket_policy": True,
    "cors": True,
    "missing_key_status": 404,
    "multipart_acl": False,
    "anonymous_list_buckets_status": 200,
    "enforces_region": False,
}


def root() -> Path:
    return home() / "ministack"


def venv() -> Path:
    return tools() / "ministack-venv"


def endpoint() -> str:
    return f"http://{HOST}:{MINISTACK_PORT}"


def install() -> None:
    exe = venv() / "bin" / "ministack"
    if exe.exists():
        return
    procs.run_logged([sys.executable, "-m", "venv", str(venv())], "python3 -m venv (for MiniStack)")
    procs.run_logged([str(venv() / "bin" / "pip"), "install", "--disable-pip-version-check", "ministack"],
                     "pip install ministack")


def is_running() -> bool:
    return procs.running(root() / "ministack.pid") and procs.port_open(MINISTACK_PORT)


def _admin(service: str):
    import boto3
    return boto3.client(service, endpoint_url=endpoint(), aws_access_key_id=ROOT_KEY,
                        aws_secret_access_key=ROOT_SECRET, region_name=REGION)


def _writer_keys() -> dict:
    f = root() / "writer.json"
    if f.exists():
        return json.loads(f.read_text())
    iam = _admin("iam")
    with contextlib.suppress(iam.exceptions.EntityAlreadyExistsException):
        iam.create_user(UserName=WRITER_USER)
    iam.put_user_policy(UserName=WRITER_USER, PolicyName="s3-all", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
    k = iam.create_access_key(UserName=WRITER_USER)["AccessKey"]
    keys = {"access_key": k["AccessKeyId"], "secret_key": k["SecretAccessKey"]}
    f.write_text(json.dumps(keys))
    return keys


def info() -> ServerInfo:
    k = _writer_keys()
    return ServerInfo(name="ministack", endpoint=endpoint(), region=REGION,
                      admin_access_key=ROOT_KEY, admin_secret_key=ROOT_SECRET,
                      writer_access_key=k["access_key"], writer_secret_key=k["secret_key"],
                      capabilities=dict(CAPABILITIES))


def start() -> ServerInfo:
    if (up := procs.reuse_or_reset(install, is_running, info, stop)) is not None:
        return up
    d = root()
    d.mkdir(parents=True, exist_ok=True)
    (d / "writer.json").unlink(missing_ok=True)  # state is in memory: a new server has no users
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AUTH="true", BIND_HOST=HOST, GATEWAY_PORT=str(MINISTACK_PORT), SERVICES="s3,iam,sts",
               MINISTACK_HOST="localhost", LOG_LEVEL="WARNING")
    procs.spawn([str(venv() / "bin" / "ministack")], d / "ministack.log", d / "ministack.pid", env=env, cwd=d)
    procs.wait_for(lambda: procs.port_open(MINISTACK_PORT), 60, "ministack", d / "ministack.log")
    return info()


def stop() -> None:
    procs.stop(root() / "ministack.pid")
