"""A plan for a fleet: the shards of one copy (shards.py) and, for each engine admins already run, the
files that run them. We write no scheduler: GNU parallel over SSH (`--joblog`, `--resume-failed`),
a Kubernetes Indexed Job (the shard from JOB_COMPLETION_INDEX, `backoffLimitPerIndex`), or systemd
template units run `mastowizard migrate --shard K/N` with the same flags on every host.

The writer key never appears in a file this writes, nor in a command line: each host reads it from
an env file only its user can read (parallel, systemd), or the Job from a Secret. Prints nothing:
plan_fleet returns the files' texts; the CLI writes them."""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field

WRITER_ENV = "~/.config/mastowizard/writer.env"     # on each SSH host: AWS_ACCESS_KEY_ID=..., 0600
SYSTEMD_WRITER_ENV = "/etc/mastowizard/writer.env"  # for the systemd units: root's, 0600
HELM_SYSTEM_CLAIM = "mastodon-system"       # the Mastodon Helm chart's claim for public/system (release "mastodon")
HELM_SYSTEM_PATH = "/opt/mastodon/public/system"
SECRET_NAME = "mastowizard-writer"


@dataclass
class FleetPlan:
    n: int
    files: dict[str, str] = field(default_factory=dict)     # name in the plan directory -> its text
    executable: dict[str, bool] = field(default_factory=dict)


def plan_fleet(n: int, run_args: list[str], *, mastowizard: str = "/usr/local/bin/mastowizard",
               image: str = "python:3.11-slim", install: str = "mastowizard", parallelism: int | None = None,
               namespace: str = "mastodon", claim: str = HELM_SYSTEM_CLAIM, user: str = "mastodon") -> FleetPlan:
    """The files for N shards. RUN_ARGS are `migrate`'s flags for every shard (--source, the bucket's
    settings, --jobs ...: nothing secret), without --shard, --yes or --json."""
    plan = FleetPlan(n)
    plan.files["shards.txt"] = "".join(f"{k}/{n}\n" for k in range(1, n + 1))
    # what `migrate --status --out DIR` needs to find the media and the bucket again (nothing secret)
    plan.files["plan.json"] = json.dumps({"shards": n, "migrate": run_args}, indent=2) + "\n"
    plan.files["parallel.sh"] = _parallel(n, run_args)
    plan.executable["parallel.sh"] = True
    plan.files["mastowizard-migrate@.service"] = _systemd(n, run_args, mastowizard, user)
    plan.files["job.yaml"] = _job(n, run_args, image, install, parallelism or min(n, 8), namespace, claim)
    plan.files["writer.env.example"] = (f"# The writer key, for parallel.sh (copy to {WRITER_ENV} on each host)\n"
                                        f"# and the systemd units ({SYSTEMD_WRITER_ENV}); chmod 600. Never on a "
                                        "command line.\nAWS_ACCESS_KEY_ID=\nAWS_SECRET_ACCESS_KEY=\n")
    return plan


def _parallel(n: int, run_args: list[str]) -> str:
    remote = ("set -a; . " + WRITER_ENV + "; set +a; exec mastowizard migrate --shard {} --yes --json "
              + shlex.join(run_args))
    return f"""#!/bin/sh
# mastowizard: the {n} shards of one copy, on the hosts of HOSTFILE with GNU parallel.
#   ./parallel.sh HOSTFILE
# HOSTFILE is parallel's --sshloginfile: one host a line, e.g. "2/admin@app1" (two shards at once on
# app1), or ":" for this machine. Each host must mount the same media, have mastowizard and GNU parallel
# on its PATH and the writer key in {WRITER_ENV} (chmod 600; see writer.env.example). A dead host:
# take it out of HOSTFILE; ssh options go in ~/.ssh/config or PARALLEL_SSH, not in HOSTFILE.
# Rerun it after a failure: only the shards that failed or never ran are run again (--resume-failed),
# and each of those resumes from its own journal. Each shard's summary (JSON) lands in results/.
set -eu
here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
hosts=${{1:?usage: parallel.sh HOSTFILE}}
exec parallel --sshloginfile "$hosts" --joblog "$here/joblog" --resume-failed \\
    --results "$here/results/{{#}}" --halt never --line-buffer \\
    {shlex.quote(remote)} :::: "$here/shards.txt"
"""


def _systemd(n: int, run_args: list[str], mastowizard: str, user: str) -> str:
    return f"""# mastowizard: shard K of the {n} of one copy, as a systemd template unit, for a few hosts without
# GNU parallel or Kubernetes. On each host, for the shards it runs (e.g. 1 and 3):
#   cp mastowizard-migrate@.service /etc/systemd/system/ && systemctl daemon-reload
#   systemctl start mastowizard-migrate@1 mastowizard-migrate@3
# The writer key is read from {SYSTEMD_WRITER_ENV} (root's, chmod 600; see writer.env.example). A failed
# shard restarts and resumes from its journal in /var/lib/mastowizard.
[Unit]
Description=mastowizard: copy shard %i of {n} of the Mastodon media into the bucket
Wants=network-online.target
After=network-online.target

[Service]
Type=oneshot
User={user}
EnvironmentFile={SYSTEMD_WRITER_ENV}
StateDirectory=mastowizard
Environment=XDG_STATE_HOME=/var/lib/mastowizard
ExecStart={mastowizard} migrate --shard %i/{n} --yes --json {shlex.join(run_args)}
Restart=on-failure
RestartSec=30
NoNewPrivileges=yes
ProtectSystem=full
PrivateTmp=yes
"""


def _job(n: int, run_args: list[str], image: str, install: str, parallelism: int, namespace: str, claim: str
         ) -> str:
    script = (f"command -v mastowizard >/dev/null || pip install --quiet --no-cache-dir {shlex.quote(install)}; "
              f"exec mastowizard migrate --shard \"$((JOB_COMPLETION_INDEX + 1))/{n}\" --yes --json "
              f"{shlex.join(_in_pod(run_args))}")
    return f"""# mastowizard: the {n} shards of one copy as a Kubernetes Indexed Job (index I runs shard I+1 of {n}).
# It mounts the media volume of the Mastodon Helm chart ({claim}, at {HELM_SYSTEM_PATH}) read-only;
# with a ReadWriteOnce volume, every pod must run on the node that mounts it. The writer key comes
# from the Secret {SECRET_NAME}:
#   kubectl -n {namespace} create secret generic {SECRET_NAME} \\
#       --from-env-file=writer.env        # AWS_ACCESS_KEY_ID=..., AWS_SECRET_ACCESS_KEY=...
#   kubectl -n {namespace} apply -f job.yaml
# The journals are on the mastowizard-state claim: a retried index resumes its shard. An image with
# mastowizard installed (--image) skips the pip install each pod does otherwise.
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: mastowizard-state
  namespace: {namespace}
spec:
  accessModes: [ReadWriteMany]
  resources:
    requests:
      storage: 1Gi
---
apiVersion: batch/v1
kind: Job
metadata:
  name: mastowizard-migrate
  namespace: {namespace}
spec:
  completionMode: Indexed
  completions: {n}
  parallelism: {parallelism}
  backoffLimitPerIndex: 3
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: migrate
          image: {image}
          command: ["sh", "-c", {_yaml_str(script)}]
          env:
            - name: XDG_STATE_HOME
              value: /state
            - name: AWS_ACCESS_KEY_ID
              valueFrom:
                secretKeyRef: {{name: {SECRET_NAME}, key: AWS_ACCESS_KEY_ID}}
            - name: AWS_SECRET_ACCESS_KEY
              valueFrom:
                secretKeyRef: {{name: {SECRET_NAME}, key: AWS_SECRET_ACCESS_KEY}}
          volumeMounts:
            - {{name: system, mountPath: {HELM_SYSTEM_PATH}, readOnly: true}}
            - {{name: state, mountPath: /state}}
      volumes:
        - name: system
          persistentVolumeClaim: {{claimName: {claim}, readOnly: true}}
        - name: state
          persistentVolumeClaim: {{claimName: mastowizard-state}}
"""


def _in_pod(args: list[str]) -> list[str]:
    """The shard's flags inside the pod: the media is at the Helm chart's path, whatever --source was
    (and no env file is there)."""
    out, skip = [], False
    for a in args:
        if skip:
            skip = False
        elif a in ("--source", "--env-file"):
            skip = True
        else:
            out.append(a)
    return ["--source", HELM_SYSTEM_PATH, *out]


def _yaml_str(text: str) -> str:
    """TEXT as a YAML double-quoted scalar (JSON's escaping is valid YAML)."""
    return json.dumps(text)


@dataclass
class FleetPace:
    at_once: int                  # shards running together: the Job's parallelism, the HOSTFILE's slots
    fleet: float | None           # requests/s for the whole fleet
    why: str                      # where that limit comes from
    per_shard: float | None       # each shard's --max-rate

    def lines(self, files: int | None) -> list[str]:
        """What the plan says of the rate and how long the copy takes at least (a request a file)."""
        if self.fleet is None:
            out = [f"rate: no limit asked ({self.why}); {self.at_once} shard(s) at once"]
        else:
            out = [f"rate: {self.fleet:g} requests/s for the whole fleet ({self.why}): {self.at_once} shard(s) at "
                   f"once, --max-rate {self.per_shard:g} each; keep the HOSTFILE's slots at most {self.at_once}"]
            if files:
                out.append(f"at that rate the {files} file(s) take at least {duration(files / self.fleet)} "
                           "(one request a file, more for files over the multipart threshold)")
        return out


def fleet_pace(n: int, max_rate: float | None, at_once: int | None, provider: str) -> FleetPace:
    """The fleet's request rate, from --max-rate or the provider's published account or bucket limit
    (the catalog), shared evenly by the AT_ONCE shards that run together."""
    from ..errors import InputError
    from ..providers import get_provider
    at_once = at_once or min(n, 8)
    if not 1 <= at_once <= n:
        raise InputError("--at-once", f"{at_once} is out of range", f"use 1 to {n} (the number of shards)")
    if max_rate is not None:
        return FleetPace(at_once, max_rate, "--max-rate", max_rate / at_once)
    p = get_provider(provider)
    rate = p.fleet_rate()
    if rate is None:
        why = (f"{p.name}: {p.rate_limit['what']}" if p.rate_limit else f"{p.name} publishes no limit")
        return FleetPace(at_once, None, why + "; give --max-rate to cap it", None)
    return FleetPace(at_once, rate, f"{p.name}'s published limit: {p.rate_limit['what']}", rate / at_once)


def duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def settings_flags(s) -> list[str]:
    """SETTINGS (settings.Settings) as `migrate` takes them on a command line: nothing secret."""
    flags = ["--bucket", s.bucket, "--provider", s.provider, "--region", s.region]
    if s.endpoint:
        flags += ["--endpoint", s.endpoint]
    flags += ["--addressing", s.addressing, "--permission", s.permission, "--protocol", s.protocol]
    if s.alias_host:
        flags += ["--alias-host", s.alias_host]
    if s.key_prefix:
        flags += ["--key-prefix", s.key_prefix]
    # what the flags above cannot say but decides each object: S3_PERMISSION other than public-read or
    # empty (e.g. private), S3_STORAGE_CLASS, S3_MULTIPART_THRESHOLD ... (all of them: none is secret)
    if s.acl_override is not None:
        flags += ["--mastodon-env", f"S3_PERMISSION={s.acl_override}"]
    for name, value in sorted(s.extra_env.items()):
        flags += ["--mastodon-env", f"{name}={value}"]
    return flags


def shard_sizes(source: str, n: int) -> list[tuple[int, int]]:
    """(files, bytes) of each of the N shards of the tree at SOURCE, in one walk."""
    from .inventory import walk
    from .shards import shard_number, unit_of
    sizes = [[0, 0] for _ in range(n)]
    for f in walk(source):
        k = shard_number(unit_of(f.rel), n) - 1
        sizes[k][0] += 1
        sizes[k][1] += f.size
    return [(a, b) for a, b in sizes]
