"""`mastowizard migrate --plan-shards N --out DIR`: the shards of one copy and the files that run them
with GNU parallel, a Kubernetes Indexed Job or systemd units (migrate/fleet.py decides what they hold);
with --s5cmd also one `s5cmd run` command file per shard (migrate/s5cmd_export.py), DIR/s5cmd/K.txt.
Writes only into DIR; the copy itself runs later, one `migrate --shard K/N` (or `s5cmd run`) per shard."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
from pathlib import Path

from ..errors import InputError
from .inputs import env_path, env_values, flags_given, load_settings
from .status import ExitStatus


def cmd_plan_shards(args: argparse.Namespace) -> int:
    from ..migrate.fleet import fleet_pace, plan_fleet, settings_flags, shard_sizes
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
    pace = fleet_pace(n, args.max_rate, args.at_once, settings.provider)
    if pace.per_shard:
        run_args += ["--max-rate", f"{pace.per_shard:g}"]
    plan = plan_fleet(n, run_args, mastowizard=shutil.which("mastowizard") or "/usr/local/bin/mastowizard",
                      parallelism=pace.at_once)
    out = os.path.abspath(args.out)
    old = os.path.join(out, "shards.txt")
    if os.path.exists(old) and Path(old).read_text() != plan.files["shards.txt"]:
        raise InputError("--out", f"{out} holds a plan of other shards (its shards.txt, joblog and results would "
                         "no longer match)", "give another directory, or remove that one once its copy is done")
    if args.s5cmd and not os.path.isdir(source):
        raise InputError("--source", f"{source} is not a directory", "the s5cmd files name every file: plan on a "
                         "machine that mounts the media, with --source its public/system")
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
    ca_bundle = os.path.abspath(args.ca_bundle) if args.ca_bundle else None
    s5cmd = _write_s5cmd(out, n, source, settings, ca_bundle) if args.s5cmd else None
    if args.json:
        print(json.dumps({"ok": True, "shards": n, "dir": out, "files": written, "source": source,
                          "sizes": [{"shard": f"{k}/{n}", "files": a, "bytes": b}
                                    for k, (a, b) in enumerate(sizes or [], 1)] or None,
                          "rate": {"fleet": pace.fleet, "per_shard": pace.per_shard, "at_once": pace.at_once,
                                   "why": pace.why,
                                   "at_least_s": sum(a for a, _ in sizes) / pace.fleet if sizes and pace.fleet
                                   else None},
                          **({"s5cmd": s5cmd} if s5cmd else {})}, indent=2))
        return ExitStatus.OK
    print(f"{n} shard(s) of {source} into bucket {settings.bucket}, planned in {out}:")
    for target in written:
        print(f"  {os.path.basename(target)}")
    if sizes:
        files = [a for a, _ in sizes]
        print(f"per shard: {min(files)} to {max(files)} files (of {sum(files)}, "
              f"{human_bytes(sum(b for _, b in sizes))})")
    for line in pace.lines(sum(a for a, _ in sizes) if sizes else None):
        print(line)
    print(f"run them: {os.path.join(out, 'parallel.sh')} HOSTFILE (GNU parallel over SSH), or "
          f"`kubectl apply -f {os.path.join(out, 'job.yaml')}`, or the systemd units; docs/migration.md has the "
          "runbooks")
    if s5cmd:
        _show_s5cmd(s5cmd, bool(args.resolve))
    return ExitStatus.OK


def _write_s5cmd(out: str, n: int, source: str, settings, ca_bundle: str | None) -> dict:
    """DIR/s5cmd/K.txt for each shard K, each written whole or not at all (streamed: a shard's lines
    are never all in memory); what they hold, for --json."""
    from ..migrate.s5cmd_export import Export, command_lines, run_command
    from ..migrate.shards import Shard
    folder = os.path.join(out, "s5cmd")
    os.makedirs(folder, exist_ok=True)
    total, files, commands = Export(), [], []
    for k in range(1, n + 1):
        target = os.path.join(folder, f"{k}.txt")
        run = run_command(settings, target, ca_bundle)
        export, tmp = Export(), f"{target}.tmp"
        try:
            with open(tmp, "w", encoding="utf-8", newline="\n") as f:
                for line in command_lines(source, settings, Shard(k, n), export, run):
                    f.write(line + "\n")
            os.chmod(tmp, 0o644)
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        total.add(export)
        files.append(target)
        commands.append(run)
    return {"dir": folder, "files": files, "commands": commands, "cp_lines": total.files, "bytes": total.bytes,
            "not_copied": _reasons(total.skipped), "left_out": _reasons(total.left_out)}


def _reasons(skipped) -> dict:
    return {r: {"files": n, "examples": skipped.examples[r]} for r, n in skipped.counts.items()}


def _show_s5cmd(s5cmd: dict, pinned: bool) -> None:
    from ..migrate.inventory import files, human_bytes
    print(f"s5cmd: {len(s5cmd['files'])} command file(s) in {s5cmd['dir']}, {files(s5cmd['cp_lines'])} "
          f"({human_bytes(s5cmd['bytes'])}) in all; on a machine that mounts the media, with the writer key in "
          "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, run each:")
    for command in s5cmd["commands"][:3]:
        print(f"  {command}")
    if len(s5cmd["commands"]) > 3:
        print(f"  ... and so on to {os.path.basename(s5cmd['files'][-1])}")
    for reason, left in s5cmd["left_out"].items():
        print(f"  left out of them: {files(left['files'])} ({reason}), e.g. {_shown(left['examples'])}; "
              "`mastowizard migrate` copies them")
    for reason, left in s5cmd["not_copied"].items():
        print(f"  not copied: {files(left['files'])} ({reason}), e.g. {_shown(left['examples'])}")
    if pinned:
        print("  s5cmd takes no --resolve pins: the endpoint's name must resolve on each machine")


def _shown(names: list[str]) -> str:
    """NAMES on one line: a newline (the reason a name is left out) as \\n."""
    return ", ".join("".join(c if c.isprintable() else repr(c)[1:-1] for c in name) for name in names)
