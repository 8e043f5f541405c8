"""`watch --save` and `watch` (compare): the front door of watch/run.py. Changes that matter and
failures go to stderr, other changes to stdout, one line each; --quiet leaves out the summary, so
cron mails only when something changed or failed."""

from __future__ import annotations

import argparse
import json
import os
import stat
import sys

from ..env.plan import EnvFile
from ..errors import InputError
from ..results import verdict
from ..secrets import Secret
from .inputs import env_path, host_of, host_path, http_options
from .output import print_checks
from .prompts import ask
from .status import ExitStatus


def run(args: argparse.Namespace) -> int:
    """With --ssh, the baseline, its state and the metrics are on the instance's host (where the env
    file is, and where a timer will run), written as the env file's owner; else on this machine."""
    from ..watch.files import Files
    if not args.baseline:
        raise InputError("--baseline", "no baseline file given",
                         "give one, e.g. --baseline /home/mastodon/live/mastowizard-baseline.json (--save writes it)")
    args.state = args.state if args.state is not None else f"{args.baseline}.state"
    for flag, where in _paths(args):
        if not where.strip():
            raise InputError(flag, "is empty", "give a file path, or leave the flag out")
    host, files = None, Files.here()
    if getattr(args, "ssh", None):                # the files are the host's, the env file's owner's
        host = host_of(args)
        st = host.stat(env_path(args, host))
        files = Files(host, (st.uid, st.gid))
    for flag, where in _paths(args):              # before the token's prompt (and here, before any login)
        files.check(host_path(args, files.host, flag, where), flag)
    _only_its_own(args, files)
    if args.save or not args.metrics:
        return _run(args, host, files)
    from ..errors import MastowizardError
    from ..watch.run import failed_run
    try:
        return _run(args, host, files)
    except Exception as e:
        # the last good run's metrics would go on being served: say that this one could not compare
        if not (isinstance(e, InputError) and e.field == "--metrics"):
            try:
                failed_run(args.metrics, args.state, "bad_input" if isinstance(e, MastowizardError) else "internal",
                           files)
            except MastowizardError:
                pass                # the error said is the run's own, not this report's
        raise


def _only_its_own(args: argparse.Namespace, files) -> None:
    """The watch replaces its baseline (--save), state and metrics files: a file already at one of those
    paths that it did not write (the env file given by mistake) is refused, never overwritten."""
    from ..watch.files import EXAMPLE
    marks = {"--metrics": lambda b: b.startswith(b"# HELP mastowizard_") or not b.strip(),
             "--state": lambda b: not b.strip() or "first_seen" in json.loads(b),
             "--baseline": lambda b: json.loads(b).get("format") == 1}
    for flag, where in _paths(args):
        if flag == "--baseline" and not args.save:
            continue                                  # read, not written: load() says what is wrong with it
        data = files.read(where, flag)
        if data is None:
            continue
        try:
            ours = marks[flag](data)
        except (ValueError, AttributeError, TypeError):
            ours = False
        if not ours:
            raise InputError(flag, f"{where} is there and is not a file the watch wrote: it would be replaced",
                             f"give a path of its own, e.g. {EXAMPLE[flag]} beside it")


def _paths(args: argparse.Namespace) -> list[tuple[str, str]]:
    return [(flag, where) for flag, where in (("--baseline", args.baseline), ("--metrics", args.metrics),
                                              ("--state", args.state)) if where is not None]


def _run(args: argparse.Namespace, host, files) -> int:
    from ..checklist.for_instance import checklist_for
    from ..watch import baseline as baseline_file
    http = http_options(args)
    base = None if args.save else baseline_file.load(args.baseline, files)     # before the token's prompt
    if base is not None and args.instance is None and base.instance:
        args.instance = base.instance          # the baseline's instance: a timer's line may leave it out
    token = _token(args)
    host = host or host_of(args)
    path = env_path(args, host)
    env = EnvFile.read(host, path)
    ctx = checklist_for(host, path, args.instance, token, http, env=env, environ=os.environ,
                        poll_timeout=args.poll_timeout)
    values = env.doc.values()
    if args.save:
        return _save(args, ctx, values, files)
    return _compare(args, ctx, values, base, files)


def _token(args: argparse.Namespace) -> Secret | None:
    """The test upload's token: none for a read-only watch or without --instance; else from
    --token-file, $MASTODON_ACCESS_TOKEN or a prompt."""
    if args.read_only or not args.instance:
        return None
    if args.token_file:
        return read_token_file(args.token_file)
    text = os.environ.get("MASTODON_ACCESS_TOKEN") or ask("Access token (write:media, not saved): ", True)
    return Secret(text) if text else None


def read_token_file(path: str) -> Secret:
    try:
        st = os.stat(path)
        with open(path, encoding="utf-8") as f:
            text = f.readline().strip()
    except OSError as e:
        raise InputError("--token-file", f"{path} cannot be read: {e.strerror}", "give the token file's path "
                         "(one line, mode 0600)") from None
    creds = os.environ.get("CREDENTIALS_DIRECTORY")
    systemd_credential = bool(creds) and os.path.dirname(os.path.abspath(path)) == os.path.abspath(creds)
    # a systemd credential is readable by the service's user alone, whatever mode systemd gives it
    if not systemd_credential:
        refuse_shared_token(path, stat.S_IMODE(st.st_mode))
    if not text:
        raise InputError("--token-file", f"{path} is empty", "write the token on its first line "
                         "(`mastowizard token --instance URL > FILE`)")
    return Secret(text)


def refuse_shared_token(path: str, mode: int) -> None:
    """A token file others may read is refused: one line, with the chmod that fixes it."""
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise InputError("--token-file", f"{path} may be read by others (mode {mode:04o})", f"chmod 600 {path}")


def _save(args, ctx, values, files) -> int:
    from ..watch.run import save_baseline
    saved = save_baseline(ctx, values, args.baseline, read_only=args.read_only, files=files)
    if args.json:
        print_checks(saved.checks, True, [], {"saved": saved.saved, "baseline": args.baseline,
                                              "why_not": saved.why_not or None, "previous": saved.previous,
                                              "snapshot": saved.snapshot.to_dict()})
        return ExitStatus.of(saved.saved)
    print_checks(saved.checks, False, [])
    if not saved.saved:
        print(f"mastowizard: baseline not saved: {saved.why_not}", file=sys.stderr)
        return ExitStatus.CHECK_FAILED
    from ..watch.snapshot import describe
    for line in describe(saved.snapshot):
        print(line)
    if saved.previous:
        print(f"the baseline it replaces is kept as {saved.previous}")
    print(f"baseline saved to {args.baseline} (mode 0600, no secrets); compare with: mastowizard watch "
          f"--env-file ... --baseline {args.baseline}")
    return ExitStatus.OK


def _compare(args, ctx, values, base, files) -> int:
    from ..watch.compare import when
    from ..watch.run import watch
    w = watch(ctx, values, base, state_path=args.state, metrics_path=args.metrics,
              read_only=args.read_only, cert_days=args.cert_days, files=files)
    if args.json:
        print(json.dumps(w.to_json(), indent=2, default=str))
        return ExitStatus.of(w.ok)
    for c in w.changes:
        if args.quiet and not c.matters and c.first_seen != w.at:
            continue            # news said when first seen: cron mails it once, not every hour
        print(c.line(), file=sys.stderr if c.matters else sys.stdout)
    if not args.quiet:
        v = verdict(w.checks)
        cert = w.snapshot.certificate
        days = f"; {cert.host}'s certificate expires in {cert.days_left(w.snapshot.taken_at):.0f} days" if cert else ""
        state = "ok" if w.ok else f"{len(w.mattering)} change(s) that matter"
        changed = f"{len(w.changes)} change(s)" if w.changes else "nothing changed"
        print(f"watch: {state}: {v.line()}; {changed} since the baseline of {when(w.baseline.taken_at)}{days}"
              + (f"; metrics in {args.metrics}" if args.metrics else ""))
    return ExitStatus.of(w.ok)
