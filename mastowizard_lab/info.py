"""Connection facts the tests and the demo need about a lab server."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class ServerInfo:
    name: str                 # "rgw" or "ministack"
    endpoint: str             # http://127.0.0.1:PORT
    region: str
    admin_access_key: str     # creates buckets, sets policy, CORS, Block Public Access, ownership
    admin_secret_key: str
    writer_access_key: str    # the credential Mastodon would use
    writer_secret_key: str
    capabilities: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)

    def __repr__(self) -> str:  # lab keys are throwaway, but keep test output readable
        return f"ServerInfo({self.name}, {self.endpoint})"
