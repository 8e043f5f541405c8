"""Which lab servers a bucket test runs on."""

from __future__ import annotations

import pytest

import mastowizard_lab as lab


def on(*servers: str):
    """Run a bucket test only on SERVERS: where what it checks exists (a server's own behaviour), or
    once where it does not depend on the server. Never generated for the others and skipped."""
    return pytest.mark.parametrize("s3server", servers, indirect=True)


def servers_where(capability: str) -> tuple[str, ...]:
    """The lab's servers (every bucket test's) that have CAPABILITY."""
    from mastowizard_lab import ministack, rgw
    caps = {"rgw": rgw.CAPABILITIES, "ministack": ministack.CAPABILITIES}
    return tuple(name for name in lab.SERVERS if caps[name].get(capability))
