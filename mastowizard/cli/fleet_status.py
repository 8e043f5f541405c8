"""`mastowizard migrate --status --out DIR`: every shard of a fleet's copy, done, running, failed,
partly copied or not started, with the files and bytes left and an estimate (migrate/fleet_status.py
measures; this renders). Reads the bucket with the writer key from the environment, writes nothing."""

from __future__ import annotations

import argparse
import json
import os

from ..errors import InputError
from .inputs import http_options, load_settings, writer_credential
from .status import ExitStatus


def plan_args(out: str) -> argparse.Namespace:
    """`migrate`'s flags as the plan in OUT recorded them (plan.json), parsed as the command line is."""
    from .main import build_parser
    path = os.path.join(out, "plan.json")
    try:
        with open(path) as f:
            doc = json.load(f)
        flags = [str(a) for a in doc["migrate"]]
    except FileNotFoundError:
        raise InputError("--out", f"{out} holds no plan (no plan.json)",
                         "give the directory `migrate --plan-shards N --out DIR` wrote") from None
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise InputError("--out", f"{path} cannot be read ({e})", "write the plan again with --plan-shards") from None
    return build_parser().parse_args(["migrate", *flags])


def cmd_fleet_status(args: argparse.Namespace) -> int:
    from ..migrate.fleet import duration
    from ..migrate.fleet_status import DONE, FAILED, fleet_status
    from ..migrate.inventory import human_bytes
    if not args.out:
        raise InputError("--out", "is needed with --status",
                         "give the plan's directory (migrate --plan-shards ... --out)")
    out = os.path.abspath(args.out)
    planned = plan_args(out)
    settings, _, _ = load_settings(planned, values=None)
    at_once = args.at_once or min(8, _shards(out))
    st = fleet_status(out, settings, writer_credential(settings), planned.source, http_options(planned))
    if args.json:
        print(json.dumps({"ok": st.files_left == 0, "dir": out, "bucket": settings.bucket, **st.to_json(at_once)},
                         indent=2))
        return ExitStatus.of(st.files_left == 0)
    print(f"{st.n} shard(s) of {planned.source} into bucket {settings.bucket} ({out}; reports: {st.reports}):")
    print(f"  {'shard':>9}  {'state':13} {'files left':>11} {'of':>9}  {'bytes left':>10}")
    for s in st.shards:
        print(f"  {s.shard:>9}  {s.state:13} {s.files_left:>11} {s.files:>9}  {human_bytes(s.bytes_left):>10}")
    counts = ", ".join(f"{st.count(x)} {x}" for x in (DONE, "running", FAILED, "partly copied", "not started")
                       if st.count(x))
    print(f"{counts}; {st.files_left} file(s), {human_bytes(st.bytes_left)} left")
    eta = st.estimate(at_once)
    if st.files_left and eta is not None:
        print(f"at the pace the shards reported ({st.pace():.0f} files/s each), with {at_once} at once: about "
              f"{duration(eta)} left")
    if st.count(FAILED):
        print(f"rerun {os.path.join(out, 'parallel.sh')} HOSTFILE: only the failed and unfinished shards run again")
    return ExitStatus.of(st.files_left == 0)


def _shards(out: str) -> int:
    from ..migrate.fleet_status import shards_of
    return shards_of(out)
