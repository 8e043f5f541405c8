"""Ceph RADOS Gateway from Debian: one mon, one memstore OSD, radosgw, all in one directory."""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from pathlib import Path

from . import procs
from .config import HOST, MON_PORT, REGION, RGW_PORT, home
from .info import ServerInfo

PACKAGES = ["ceph-mon", "ceph-osd", "radosgw", "ceph-common"]
BINARIES = ["ceph-mon", "ceph-osd", "radosgw", "ceph", "radosgw-admin", "monmaptool", "ceph-authtool"]
ACCESS_KEY = "LABRGWADMIN0000000001"
SECRET_KEY = "labRgwAdminSecret0000000000000000000001"

CAPABILITIES = {
    "acl": True,
    "default_block_public_access": False,
    "default_acls_disabled": False,
    "ownership_controls": False,
    "block_public_access_api": True,
    "bucket_policy": True,
    "cors": True,
    "missing_key_status": 403,
    "multipart_acl": True,
    "anonymous_list_buckets_status": 200,
    "enforces_region": False,
    "block_public_acls_blocks_all_writes": True,  # any PutObject is AccessDenied while BlockPublicAcls is on
}


def root() -> Path:
    return home() / "rgw"


def info() -> ServerInfo:
    return ServerInfo(name="rgw", endpoint=f"http://{HOST}:{RGW_PORT}", region=REGION,
                      admin_access_key=ACCESS_KEY, admin_secret_key=SECRET_KEY,
                      writer_access_key=ACCESS_KEY, writer_secret_key=SECRET_KEY,
                      capabilities=dict(CAPABILITIES))


def _conf(d: Path) -> str:
    modes = "\n".join(f"ms {k} mode = crc" for k in
                      ("mon client", "mon service", "mon cluster", "client", "service", "cluster"))
    return f"""[global]
fsid = {(d / 'fsid').read_text().strip()}
mon host = v2:{HOST}:{MON_PORT}
public addr = {HOST}
ms bind msgr1 = false
ms bind ipv6 = false
auth cluster required = none
auth service required = none
auth client required = none
{modes}
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
mon allow pool size one = true
mon warn on pool no redundancy = false
osd crush chooseleaf type = 0
run dir = {d}/run
admin socket = {d}/run/$name.asok
pid file = {d}/run/$name.pid
log file = {d}/log/$name.log
keyring = {d}/keyring
mon data = {d}/mon/$cluster-$id
osd data = {d}/osd/$cluster-$id
mon cluster log file = {d}/log/cluster.log
mon pg warn min per osd = 0
osd pool default pg autoscale mode = off
# the one mon commits each change at once, not batched for up to a second: every pool RGW creates
# (six, the last two at the first bucket and the first object) otherwise costs two seconds
paxos propose interval = 0.01

[osd]
osd objectstore = memstore
memstore device bytes = 8589934592   # RAM, used as stored: room for benchmarks' trees
osd fast shutdown = false
osd journal size = 0

[client.rgw.a]
# tcp_nodelay: without it each GET with a body is answered about 40 ms late (its headers and body are
# two writes, and the second waits for the client's delayed ACK), as no provider's S3 is
rgw frontends = beast endpoint={HOST}:{RGW_PORT} tcp_nodelay=1
rgw dns name = s3.local
rgw enable usage log = false
rgw thread pool size = 64
rgw gc obj min wait = 0
rgw gc processor period = 30
"""


def _run(d: Path, *argv: str, timeout: float = 60) -> str:
    r = subprocess.run([*argv, "-c", str(d / "ceph.conf")] if argv[0] not in ("monmaptool", "ceph-authtool")
                       else list(argv), capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise RuntimeError(f"lab: {' '.join(argv[:3])} failed: {r.stderr.strip()[-800:]}")
    return r.stdout


def _pidfile(d: Path, name: str) -> Path:
    return d / "run" / f"{name}.pid"


def _http_up() -> bool:
    return procs.port_open(RGW_PORT)


def is_running() -> bool:
    d = root()
    return all(procs.running(_pidfile(d, n)) for n in ("mon.a", "osd.0", "client.rgw.a")) and _http_up()


def install() -> None:
    procs.ensure_debian(PACKAGES, BINARIES)


def _create(d: Path) -> None:
    """A new cluster: keyring, monmap, mon and osd stores."""
    if d.exists():
        shutil.rmtree(d)
    for sub in ("run", "log", "mon", "osd/ceph-0"):
        (d / sub).mkdir(parents=True)
    (d / "fsid").write_text(str(uuid.uuid4()))
    (d / "ceph.conf").write_text(_conf(d))
    kr = str(d / "keyring")
    _run(d, "ceph-authtool", "--create-keyring", kr, "--gen-key", "-n", "mon.", "--cap", "mon", "allow *")
    _run(d, "ceph-authtool", kr, "--gen-key", "-n", "client.admin", "--cap", "mon", "allow *",
         "--cap", "osd", "allow *", "--cap", "mds", "allow *", "--cap", "mgr", "allow *")
    fsid = (d / "fsid").read_text().strip()
    _run(d, "monmaptool", "--create", "--fsid", fsid, "--addv", "a", f"[v2:{HOST}:{MON_PORT}]", str(d / "monmap"))
    _run(d, "ceph-mon", "--mkfs", "-i", "a", "--monmap", str(d / "monmap"), "--keyring", kr)


def _running_as_configured() -> bool:
    """Running, and with the configuration this lab writes now (one started with an older one is
    started anew: its buckets are the tests' and go with it)."""
    d = root()
    try:
        configured = (d / "ceph.conf").read_text() == _conf(d)
    except OSError:
        return False
    return configured and is_running()


def start() -> ServerInfo:
    if (up := procs.reuse_or_reset(install, _running_as_configured, info, stop)) is not None:
        return up
    d = root()
    # memstore keeps data only while the OSD runs: a stopped lab starts from scratch.
    _create(d)
    conf = ["-c", str(d / "ceph.conf")]
    procs.spawn(["ceph-mon", "-i", "a", "-f", *conf], d / "log" / "mon.out", _pidfile(d, "mon.a"))
    procs.wait_for(lambda: procs.port_open(MON_PORT), 30, "ceph-mon", d / "log" / "mon.out")
    osd_uuid = str(uuid.uuid4())
    osd_id = _run(d, "ceph", "osd", "new", osd_uuid, timeout=60).strip()
    _run(d, "ceph-osd", "-i", osd_id, "--mkfs", "--osd-uuid", osd_uuid, timeout=120)
    procs.spawn(["ceph-osd", "-i", osd_id, "-f", *conf], d / "log" / "osd.out", _pidfile(d, "osd.0"))
    procs.wait_for(lambda: '"num_up_osds":1' in _osd_stat(d), 60, "ceph-osd", d / "log" / "osd.out", 0.1)
    procs.spawn(["radosgw", "-n", "client.rgw.a", "-f", *conf], d / "log" / "rgw.out", _pidfile(d, "client.rgw.a"))
    procs.wait_for(_http_up, 120, "radosgw", d / "log" / "rgw.out", 0.1)
    _ensure_user(d)
    return info()


def _osd_stat(d: Path) -> str:
    try:
        return _run(d, "ceph", "osd", "stat", "-f", "json", timeout=10).replace(" ", "")
    except Exception:  # noqa: BLE001 - not up yet
        return ""


def _ensure_user(d: Path) -> None:
    try:
        json.loads(_run(d, "radosgw-admin", "user", "info", "--uid", "mastowizard-lab"))
        return
    except RuntimeError:
        pass
    _run(d, "radosgw-admin", "user", "create", "--uid", "mastowizard-lab", "--display-name", "mastowizard lab",
         "--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY, timeout=60)


def scoped_key(uid: str) -> tuple[str, str]:
    """An access key of another RGW user (UID), made once: a key that owns nothing and may do in a
    bucket only what a bucket policy grants it (see grant)."""
    d = root()
    access = ("LABRGW" + uid.upper().replace("-", ""))[:20].ljust(20, "0")
    secret = f"labRgwScoped{uid}".ljust(40, "0")[:40]
    try:
        json.loads(_run(d, "radosgw-admin", "user", "info", "--uid", uid))
    except RuntimeError:
        _run(d, "radosgw-admin", "user", "create", "--uid", uid, "--display-name", uid, "--access-key", access,
             "--secret-key", secret, timeout=60)
    return access, secret


def grant(client, bucket: str, uid: str, actions: list[str]) -> None:
    """Add a statement to BUCKET's policy (with the owner's CLIENT) letting user UID do ACTIONS on its
    objects (and s3:ListBucket on the bucket when asked), as an admin scopes a key to one bucket."""
    try:
        policy = json.loads(client.get_bucket_policy(Bucket=bucket)["Policy"])
    except Exception:  # noqa: BLE001 - no policy yet
        policy = {"Version": "2012-10-17", "Statement": []}
    principal = {"AWS": [f"arn:aws:iam:::user/{uid}"]}
    object_actions = [a for a in actions if a != "s3:ListBucket"]
    if object_actions:
        # RGW (Pacific) checks DeleteObjects' s3:DeleteObject against the bucket itself: name both
        policy["Statement"].append({"Sid": f"lab-{uid}", "Effect": "Allow", "Principal": principal,
                                    "Action": object_actions,
                                    "Resource": [f"arn:aws:s3:::{bucket}/*", f"arn:aws:s3:::{bucket}"]})
    if "s3:ListBucket" in actions:
        policy["Statement"].append({"Sid": f"lab-{uid}-list", "Effect": "Allow", "Principal": principal,
                                    "Action": ["s3:ListBucket"], "Resource": [f"arn:aws:s3:::{bucket}"]})
    client.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))


def set_bucket_quota(bucket: str, max_bytes: int) -> None:
    """A bucket quota, as a provider or an admin sets one: RGW refuses writes past it (QuotaExceeded)."""
    d = root()
    _run(d, "radosgw-admin", "quota", "set", "--quota-scope=bucket", "--bucket", bucket, "--max-size", str(max_bytes))
    _run(d, "radosgw-admin", "quota", "enable", "--quota-scope=bucket", "--bucket", bucket)


def stop() -> None:
    d = root()
    for name in ("client.rgw.a", "osd.0", "mon.a"):
        procs.stop(_pidfile(d, name))
