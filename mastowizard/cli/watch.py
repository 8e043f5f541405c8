"""`mastowizard watch`: the checklist compared with a saved baseline (--save makes it), for timers,
cron and node_exporter; and --install/--uninstall/--cron-line/--compose-service, which set it up."""

from __future__ import annotations

import argparse

from ..errors import InputError
from ..options import ENV_FILE, HTTP, INSTANCE, JSON, REMOTE, YES, Group, Option, add
from .checklist import POLL_TIMEOUT

BASELINE = Option("--baseline", "the baseline file: written by --save (0600, no secrets), compared with otherwise",
                  "FILE")
TOKEN_FILE = Option("--token-file", "read the test upload's access token (write:media) from FILE (0600), instead of "
                    "$MASTODON_ACCESS_TOKEN or a prompt", "FILE")
READ_ONLY = Option("--read-only", "no test upload through the API (no token needed): the bucket, the media host and "
                   "the settings are still checked, with the writer key's own probe objects",
                   kwargs={"action": "store_true"})
ACTIONS = Group(None, (
    Option("--save", "run the checklist and, when nothing failed, save it as the baseline",
           kwargs={"action": "store_true"}),
    Option("--install", "write a systemd service and timer that run this watch (with --unit-dir, there), and enable "
           "the timer where systemd runs", kwargs={"action": "store_true"}),
    Option("--uninstall", "stop and remove the service, the timer and the token file --install wrote (the baseline "
           "and the metrics are kept)", kwargs={"action": "store_true"}),
    Option("--cron-line", "print the crontab line that runs this watch", kwargs={"action": "store_true"}),
    Option("--compose-service", "print a Docker Compose service that runs this watch",
           kwargs={"action": "store_true"}),
), exclusive=True)
COMPARE = Group("comparing", (
    Option("--metrics", "write Prometheus metrics to FILE (atomically) for node_exporter's textfile collector",
           "FILE.prom"),
    Option("--state", "where first-seen times of changes and the last success are kept (default BASELINE.state)",
           "FILE"),
    Option("--cert-days", "a media host certificate expiring within DAYS matters (default 14)", "DAYS",
           {"type": int, "default": 14}),
    Option("--quiet", "print only changes and failures (nothing when all is as in the baseline): for cron's mail",
           kwargs={"action": "store_true"}),
))
INSTALLING = Group("installing", (
    Option("--unit-dir", "where --install writes the units (default /etc/systemd/system)", "DIR"),
    Option("--run-as", "run the service as USER (default: a systemd DynamicUser)", "USER"),
    Option("--every", "how often, as a systemd OnCalendar value (default hourly)", "CALENDAR",
           {"default": "hourly"}),
    Option("--program", "mastowizard's path on the host (default: found there)", "PATH"),
    Option("--credential-dir", "where --install writes the access token, as watch.token (0600), when no "
           "--token-file is given (default /etc/mastowizard)", "DIR"),
))


def add_parsers(sub) -> None:
    add(sub.add_parser("watch", help="keep watching: the checklist compared with a saved baseline (--save), one line "
                       "per change, exit 1 on a failure or a change that matters, Prometheus metrics; --install "
                       "sets up a systemd timer"),
        ENV_FILE, INSTANCE, BASELINE, ACTIONS, READ_ONLY, TOKEN_FILE, COMPARE, INSTALLING, POLL_TIMEOUT, JSON, YES,
        *HTTP, REMOTE)


def cmd_watch(args: argparse.Namespace) -> int:
    if args.cert_days < 0:
        raise InputError("--cert-days", f"{args.cert_days} is negative", "give the days of warning, e.g. 14")
    if args.install or args.uninstall or args.cron_line or args.compose_service:
        from . import watch_install
        return watch_install.run(args)
    from . import watch_run
    return watch_run.run(args)


COMMANDS = {"watch": cmd_watch}
