"""`migrate --max-rate R`: requests spaced 1/R apart whichever thread sends them, wider after a
SlowDown and back after answers; a fleet's plan shares one limit among the shards that run at once.
Measured where the server sees the requests (a proxy that stamps each one): a lower bound on the time
they took, which a slow machine only lengthens."""

import threading
import time
from urllib.parse import unquote, urlsplit

from helpers.lab import on

from mastowizard.migrate.copy import copy_tree
from mastowizard.migrate.pace import Pace, jittered
from mastowizard.net import HttpOptions
from mastowizard.s3.credential import Credential
from mastowizard.secrets import Secret
from mastowizard.settings import Settings
from mastowizard_lab.faultproxy import FaultProxy
from mastowizard_lab.media_tree import make_tree


def test_the_pace_spaces_requests_from_every_thread_and_widens_after_a_slowdown():
    pace = Pace(200)
    started = time.monotonic()
    threads = [threading.Thread(target=lambda: [pace.wait() for _ in range(10)]) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert time.monotonic() - started >= 39 / 200, "40 requests at 200/s take at least 0.195 s"
    for _ in range(5):
        pace.slowed()
    assert pace.interval == 8 * pace.base            # at most 8x slower
    for _ in range(200):
        pace.answered()
    assert pace.interval == pace.base                # and back
    assert all(0.5 <= jittered(1.0) <= 1.0 for _ in range(100))


@on("rgw")
def test_a_copy_keeps_to_its_rate_and_gets_through_a_slowdown(bucket, prepared, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    prepared("acl")
    tree = make_tree(tmp_path / "system", 40, suspended=1)
    srv = bucket.server
    stamps = []
    with FaultProxy(urlsplit(srv.endpoint).port) as proxy:
        proxy.rule(lambda r: stamps.append(time.monotonic()) and False, "delay")     # stamps every request
        slow = proxy.rule(lambda r: r.method == "PUT", "answer", answer=503, code="SlowDown", after=10, times=6)
        s = Settings.build(bucket=bucket.name, provider="ceph", region=srv.region, endpoint=proxy.endpoint,
                           addressing="path", permission="acl", alias_host="media.example", protocol="https")
        rate = 40.0
        result = copy_tree(s, Credential(srv.writer_access_key, Secret(srv.writer_secret_key)), str(tree.root),
                           jobs=16, http=HttpOptions(max_rate=rate))
        proxy.wait_idle()
        stored = [unquote(urlsplit(p).path).split("/", 2)[2] for m, p, st in proxy.log.forwarded
                  if m == "PUT" and st == 200]
    assert not result.failed and result.copied == len(tree.files), result.failed
    assert slow.acted == 6 and sorted(stored) == sorted(set(stored)) == sorted(tree.files)
    # 16 workers, yet never faster than the rate: n requests span at least (n - 1) / rate seconds
    n = len(stamps)
    assert n >= len(tree.files) + 6 and stamps[-1] - stamps[0] >= (n - 1) / rate * 0.98, \
        (n, round(stamps[-1] - stamps[0], 3), f"at least {(n - 1) / rate:.3f} s awaited at {rate:g}/s")
    busiest = max(sum(1 for t in stamps if s0 <= t < s0 + 1.0) for s0 in stamps)
    assert busiest <= rate * 1.25, f"{busiest} requests within one second at {rate:g}/s (a burst)"
