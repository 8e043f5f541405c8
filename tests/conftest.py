"""Fixtures that start the lab's real servers on demand and give each test a fresh bucket."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

import mastowizard_lab as lab
from mastowizard_lab import buckets
from mastowizard_lab.config import NGINX_HTTP_PORT, NGINX_HTTPS_PORT
from mastowizard_lab.nginx import ca_pem, media_host


@dataclass(frozen=True)
class LabInfo:
    ca_pem: str
    http_port: int
    https_port: int

    def resolve(self) -> list[str]:
        """--resolve pins for every lab media host, as an admin would pass them."""
        return [f"*.media.test:{self.http_port}:127.0.0.1", f"*.media.test:{self.https_port}:127.0.0.1",
                f"*.lab.test:{self.http_port}:127.0.0.1", f"*.lab.test:{self.https_port}:127.0.0.1"]


@dataclass
class Bucket:
    server: lab.ServerInfo
    name: str
    media_host: str

    @property
    def media_http_base(self) -> str:
        return f"http://{self.media_host}:{NGINX_HTTP_PORT}"

    @property
    def media_https_base(self) -> str:
        return f"https://{self.media_host}:{NGINX_HTTPS_PORT}"

    @property
    def admin_client(self):
        return buckets.admin_client(self.server)

    def endpoint_in(self, text: str) -> bool:
        return self.server.endpoint in text


_started: dict[str, lab.ServerInfo | None] = {}


def _ensure(name: str):
    if name not in _started:
        _started[name] = lab.start(name)
    return _started[name]


@pytest.fixture(scope="session")
def lab_info() -> LabInfo:
    _ensure("nginx")
    return LabInfo(str(ca_pem()), NGINX_HTTP_PORT, NGINX_HTTPS_PORT)


@pytest.fixture(params=lab.SERVERS)
def s3server(request) -> lab.ServerInfo:
    return _ensure(request.param)


def _fresh_bucket(srv: lab.ServerInfo):
    """A new bucket on SRV for one test, emptied and deleted after it."""
    name = f"mw-{uuid.uuid4().hex[:10]}"
    buckets.create_bucket(srv, name)
    yield Bucket(srv, name, media_host(srv.name, name))
    buckets.empty_and_delete_bucket(srv, name)


@pytest.fixture
def bucket(s3server, lab_info) -> Bucket:
    yield from _fresh_bucket(s3server)


@pytest.fixture
def rgw_bucket(lab_info) -> Bucket:
    """A bucket on Ceph RGW, for what does not depend on the S3 server (one run, not three)."""
    yield from _fresh_bucket(_ensure("rgw"))


@pytest.fixture
def ministack_bucket(lab_info) -> Bucket:
    """A bucket on MiniStack, for a second provider beside an RGW bucket (a move between providers)."""
    yield from _fresh_bucket(_ensure("ministack"))


@pytest.fixture
def seaweed_bucket(lab_info) -> Bucket:
    """A bucket on SeaweedFS, the lab's server that accepts x-amz-acl and silently ignores it."""
    yield from _fresh_bucket(_ensure("seaweedfs"))


@pytest.fixture
def anon_http(lab_info):
    from mastowizard.net import HttpOptions, client
    with client(HttpOptions.build(lab_info.resolve(), lab_info.ca_pem)) as c:
        yield c


def pytest_collection_modifyitems(items):
    for item in items:
        names = getattr(item, "fixturenames", ())
        if {"bucket", "rgw_bucket", "ministack_bucket", "seaweed_bucket", "s3server"} & set(names):
            item.add_marker(pytest.mark.lab)


ROOT = Path(__file__).resolve().parent.parent
