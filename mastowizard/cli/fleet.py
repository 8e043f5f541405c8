"""`mastowizard migrate --plan-shards N --out DIR`: the shards of one copy and the files that run them
with GNU parallel, a Kubernetes Indexed Job or systemd units (migrate/fleet.py decides what they hold).
Writes only into DIR; the copy itself runs later, one `migrate --shard K/N` per shard."""

from __future__ import annotations

import argparse
import json
import os
import shutil
from pathlib import Path

from ..errors import InputError
from .inputs import env_path, env_values, flags_given, load_settings
from .status import ExitStatus


def cmd_plan_shards(args: argparse.Namespace) -> int:
    from ..migrate.fleet import plan_fleet, settings_flags, shard_sizes
    from ..migrate.inventory import human_bytes, source_dir
    from ..migrate.shards import MAX_SHARDS
    n = args.plan_shards
    if not 1 <= n <= MAX_SHARDS:
        raise InputError("--plan-shards", f"{n} shards is out of range", f"use 1 to {MAX_SHARDS}")
    if not args.out:
        raise InputError("--out", "is needed with --plan-shards", "give the directory to write the plan into")
    for flag in ("shard", "to_disk", "source_env", "ssh"):
        if getattr(args, flag, None):
            raise InputError(f"--{flag.replace('_', '-')}", "does not go with --plan-shards",
                             "plan on a machine that mounts the media; the shards run on the hosts")
    path = env_path(args, None)
    values = env_values(None, path) if (args.env_file or not flags_given(args)) else {}
    settings, _, _ = load_settings(args, values=values if values else None)
    source = os.path.abspath(args.source or source_dir(path, values))
    run_args = ["--source", source, *settings_flags(settings), "--jobs", str(args.jobs), "--verify", args.verify]
    if args.ca_bundle:
        run_args += ["--ca-bundle", os.path.abspath(args.ca_bundle)]
    for pin in args.resolve or []:
        run_args += ["--resolve", pin]
    plan = plan_fleet(n, run_args, mastowizard=shutil.which("mastowizard") or "/usr/local/bin/mastowizard")
    out = os.path.abspath(args.out)
    old = os.path.join(out, "shards.txt")
    if os.path.exists(old) and Path(old).read_text() != plan.files["shards.txt"]:
        raise InputError("--out", f"{out} holds a plan of other shards (its shards.txt, joblog and results would "
                         "no longer match)", "give another directory, or remove that one once its copy is done")
    sizes = shard_sizes(source, n) if os.path.isdir(source) else None
    os.makedirs(out, exist_ok=True)
    written = []
    for name, text in plan.files.items():
        target = os.path.join(out, name)
        tmp = f"{target}.tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.chmod(tmp, 0o755 if plan.executable.get(name) else 0o644)
        os.replace(tmp, target)
        written.append(target)
    if args.json:
        print(json.dumps({"ok": True, "shards": n, "dir": out, "files": written, "source": source,
                          "sizes": [{"shard": f"{k}/{n}", "files": a, "bytes": b}
                                    for k, (a, b) in enumerate(sizes or [], 1)] or None}, indent=2))
        return ExitStatus.OK
    print(f"{n} shard(s) of {source} into bucket {settings.bucket}, planned in {out}:")
    for target in written:
        print(f"  {os.path.basename(target)}")
    if sizes:
        files = [a for a, _ in sizes]
        print(f"per shard: {min(files)} to {max(files)} files (of {sum(files)}, "
              f"{human_bytes(sum(b for _, b in sizes))})")
    print(f"run them: {os.path.join(out, 'parallel.sh')} HOSTFILE (GNU parallel over SSH), or "
          f"`kubectl apply -f {os.path.join(out, 'job.yaml')}`, or the systemd units; docs/migration.md has the "
          "runbooks")
    return ExitStatus.OK
