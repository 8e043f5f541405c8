"""Shards (migrate/shards.py): the media tree split along Mastodon's id partitions, the same on every
host. Every file is in exactly one shard, a shard's walk never enters another shard's units, its
listing covers its files; then, in the lab, the shards copied at once by separate processes leave the
bucket complete and exactly as one copy would, no object written twice, and a rerun writes nothing."""

import hashlib
import json
import sqlite3
import subprocess
import sys

import pytest
from helpers.lab import on
from test_migrate import migrate, objects_as_a_stranger_and_as_the_owner

from mastowizard.migrate.inventory import take_inventory, walk
from mastowizard.migrate.shards import Shard, dir_unit, list_apart, listing_prefixes, parse, unit_of
from mastowizard_lab.media_tree import Tree, make_tree

SNOWFLAKE_HOURS = 2 ** 16 * 3_600_000        # id_step: about an hour of snowflake ids between records


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    return make_tree(tmp_path_factory.mktemp("shards") / "system", 1500, suspended=4, id_step=SNOWFLAKE_HOURS)


def test_the_unit_is_the_id_partition_to_its_second_group():
    deep = "media_attachments/files/109/345/678/901/234/567/original/x.jpg"
    assert unit_of(deep) == "media_attachments/files/109/345"
    assert unit_of("accounts/avatars/000/000/001/234/567/original/a.png") == "accounts/avatars/000/000/001/234"
    assert unit_of("site_uploads/notes.txt") == "site_uploads" and unit_of("top.txt") == ""
    assert dir_unit("media_attachments/files/109/345") == "media_attachments/files/109/345"
    assert dir_unit("media_attachments/files/109") is None and dir_unit("accounts/avatars/000/000") is None


@pytest.mark.parametrize("n", [1, 4, 7])
def test_every_file_is_in_exactly_one_shard_and_a_shard_walks_only_its_own(tree, n):
    every = [f.rel for f in walk(str(tree.root))]
    assert sorted(every) == sorted(tree.files)
    seen: dict[str, int] = {}
    for k in range(1, n + 1):
        shard = Shard(k, n)
        mine = [f.rel for f in walk(str(tree.root), shard=shard)]
        assert mine == [r for r in every if shard.holds(r)]          # the same files, in the same key order
        for rel in mine:
            assert rel not in seen, f"{rel} in shards {seen[rel]} and {k} of {n}"
            seen[rel] = k
        inv = take_inventory(str(tree.root), shard=shard)
        assert inv.files == len(mine)
        prefixes = listing_prefixes({unit_of(r) for r in mine})
        assert all(any(rel.startswith(p) for p in prefixes) for rel in mine), prefixes
        if n > 1:       # its own units: a few prefixes, never the whole bucket
            assert "" not in prefixes and len(prefixes) < len({unit_of(r) for r in every})
        # listed by those prefixes only when that asks fewer pages than the whole bucket
        assert inv.units == (prefixes if list_apart(len(prefixes), len(mine), n) else None)

    assert len(seen) == len(every)
    if n == 4:          # spread: a unit is an hour of uploads here, and there are ~100 of them
        sizes = sorted(list(seen.values()).count(k) for k in range(1, n + 1))
        assert sizes[0] > 0.5 * len(every) / n and sizes[-1] < 1.5 * len(every) / n, sizes


def test_a_shard_lists_its_prefixes_apart_only_when_that_asks_fewer_pages():
    assert list_apart(600, 625_000, 16)          # 10 million files in 16 shards: 600 units, not 10,000 pages
    assert not list_apart(700, 2_000, 1)         # one shard of a small tree: one flat listing
    assert not list_apart(350, 1_000, 2)
    assert list_apart(1, 10, 1) is False and list_apart(2, 5_000, 8)


def test_a_shard_not_given_as_k_of_n_is_one_line_naming_the_flag():
    assert parse("3/16") == Shard(3, 16) and str(parse(" 1 / 2 ")) == "1/2"
    for bad in ("0/4", "5/4", "x", "3/0", "1/2/3"):
        p = subprocess.run([sys.executable, "-m", "mastowizard", "migrate", "--shard", bad, "--source", "/nonexistent",
                            "--bucket", "media-bucket", "--yes"], capture_output=True, text=True, timeout=60)
        lines = p.stderr.strip().splitlines()
        assert p.returncode == 2 and len(lines) == 1 and "--shard" in lines[0], (bad, p.stderr)


@on("rgw")
def test_shards_run_at_once_copy_the_tree_exactly_once_and_a_rerun_writes_nothing(s3server, bucket, prepared,
                                                                                   lab_info, anon_http, tmp_path):
    """Three shards at once on one state directory (a host running several, or the Job's state claim):
    three journals, disjoint keys, the bucket exactly as one copy would leave it (every object's MD5
    from the listing; headers, ACL and a stranger's read for a sample and every private one); then
    each shard again, and the whole copy without --shard, find every object journaled and write nothing."""
    s = prepared("acl")
    small = make_tree(tmp_path / "system", 300, suspended=4, id_step=SNOWFLAKE_HOURS)
    n, state = 3, tmp_path / "state"
    runs = [migrate(bucket, lab_info, small.root, state, "acl", "--shard", f"{k}/{n}", "--verify", "none",
                    wait=False) for k in range(1, n + 1)]
    docs = []
    for k, p in enumerate(runs, 1):
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, (k, err.decode()[-2000:])
        docs.append(json.loads(out))
    assert [d["shard"] for d in docs] == [f"{k}/{n}" for k in range(1, n + 1)]
    assert sum(d["copied"] for d in docs) == len(small.files) and all(d["copied"] for d in docs), \
        [d["copied"] for d in docs]
    journals = sorted((state / "mastowizard" / "migrate").glob("*.sqlite"))
    assert [p.name.split("-shard-")[1] for p in journals] == [f"{k}-of-{n}.sqlite" for k in range(1, n + 1)]
    journaled = []
    for path in journals:           # each shard journaled its own keys only, in its own journal
        with sqlite3.connect(path) as db:
            journaled.append({key for (key,) in db.execute("SELECT key FROM stored")})
    assert sum(len(j) for j in journaled) == len(set().union(*journaled)) == len(small.files)
    listed = {o["Key"]: o["ETag"].strip('"') for o in bucket.admin_client.list_objects_v2(
        Bucket=bucket.name, MaxKeys=1000)["Contents"]}
    assert listed == {rel: hashlib.md5((small.root / rel).read_bytes()).hexdigest() for rel in small.files}
    sample = Tree(small.root, small.files[::10] + small.private, small.private)   # headers, ACLs, strangers
    readable = objects_as_a_stranger_and_as_the_owner(bucket, s, sample, anon_http)
    assert readable == set(sample.files) - set(small.private)
    reruns = [migrate(bucket, lab_info, small.root, state, "acl", "--shard", f"{k}/{n}", "--verify", "none",
                      wait=False) for k in range(1, n + 1)]
    for k, p in enumerate(reruns, 1):
        out, err = p.communicate(timeout=300)
        doc = json.loads(out)
        assert p.returncode == 0 and doc["copied"] == 0 and doc["skipped"] == len(journaled[k - 1]), doc
    p, doc = migrate(bucket, lab_info, small.root, state, "acl")         # the whole tree: the shards' journals
    assert p.returncode == 0 and doc["copied"] == 0 and doc["skipped"] == len(small.files), doc
