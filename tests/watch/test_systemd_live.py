"""The watch's service and timer as `watch --install` renders them, run by a real systemd 252 (the lab's
systemd box: PID 1 of its own namespaces, sharing the host's network and /tmp): a DynamicUser that
reads the env file, the baseline and the CA only as credentials, writes its state in its
StateDirectory=, and whose metrics a privileged ExecStopPost= publishes, 0644, whether the watch
passes or fails."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers.checklist import Lab
from prometheus_client.parser import text_string_to_metric_families

from mastowizard.watch.units import HOMES, SERVICE, STATE, TIMER, WatchJob, systemd_units
from mastowizard_lab import systemd_box

pytestmark = pytest.mark.lab
ROOT = Path(__file__).resolve().parents[2]
PROGRAM = shutil.which("mastowizard", path=os.path.dirname(sys.executable))


def watch_ok(path: Path) -> float:
    for family in text_string_to_metric_families(path.read_text()):
        for s in family.samples:
            if s.name == "mastowizard_watch_ok":
                return s.value
    raise AssertionError(f"no mastowizard_watch_ok in {path}")


@pytest.fixture(scope="module")
def box():
    if os.geteuid() != 0 or not os.access(systemd_box.SYSTEMD, os.X_OK):
        pytest.skip("the systemd box needs root and systemd installed")
    # this venv's Python lives under a 0700 home (/root/.pyenv): the box shows that home as 0755 holding
    # only the venv, as an admin would open it for a DynamicUser (install warns about it)
    expose = tuple(sorted({p for p in (sys.prefix, sys.base_prefix) if p.startswith(HOMES)}))
    b = systemd_box.start(expose=expose)
    yield b
    b.stop()


def save_baseline(lab: Lab, baseline: Path, ca: Path, resolve: list[str]) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MASTOWIZARD_", "MASTODON_"))}
    pins = [a for r in resolve for a in ("--resolve", r)]
    p = subprocess.run([sys.executable, "-m", "mastowizard", "watch", "--env-file", str(lab.env_file), "--baseline",
                        str(baseline), *pins, "--ca-bundle", str(ca), "--read-only", "--save"],
                       capture_output=True, text=True, env=env, timeout=180, stdin=subprocess.DEVNULL, cwd=ROOT)
    assert p.returncode == 0, p.stdout + p.stderr


def test_the_installed_service_runs_under_systemd_with_credentials_state_and_published_metrics(
        box, tmp_path, rgw_bucket, lab_info):
    assert PROGRAM, "no mastowizard script beside this Python"
    lab = Lab(tmp_path, rgw_bucket, lab_info, "policy")
    lab.setup()
    ca, baseline = tmp_path / "ca.pem", tmp_path / "baseline.json"
    shutil.copyfile(lab_info.ca_pem, ca)
    save_baseline(lab, baseline, ca, lab_info.resolve())
    textfile = tmp_path / "textfile"
    textfile.mkdir()
    metrics = textfile / "mastowizard.prom"
    for f in (lab.env_file, baseline, ca):
        f.chmod(0o600)
        assert (f.stat().st_uid, stat.S_IMODE(f.stat().st_mode)) == (0, 0o600)

    # nothing of the host's runs in the box: its systemd and journald
    assert sorted(box.run(["ps", "-e", "-o", "comm="], check=True).stdout.split()) == ["ps", "systemd",
                                                                                      "systemd-journal"]
    job = WatchJob(program=PROGRAM, env_file=str(lab.env_file), baseline=str(baseline), read_only=True,
                   metrics=str(metrics), resolve=tuple(lab_info.resolve()), ca_bundle=str(ca), needs_home=True)
    units = systemd_units(job)
    assert "--env-file %d/env --baseline %d/baseline" in units[SERVICE]
    for name, text in units.items():
        box.install_unit(name, text)
    # the code under test, from this checkout: the venv's editable install may point at a checkout under
    # /tmp (CI's clone), which the service's PrivateTmp= hides: bound back in, for this test only
    dropin = box.path(f"/etc/systemd/system/{SERVICE}.d")
    dropin.mkdir(exist_ok=True)
    (dropin / "checkout.conf").write_text(f"[Service]\nEnvironment=PYTHONPATH={ROOT}\nBindReadOnlyPaths={ROOT}\n")
    box.systemctl("daemon-reload", check=True)

    r = box.systemctl("start", SERVICE)
    journal = box.journal(SERVICE)
    assert r.returncode == 0, r.stderr + journal
    assert box.show(SERVICE, "Result", "ExecMainStatus") == {"Result": "success", "ExecMainStatus": "0"}, journal
    state = box.path(f"/var/lib/private/{STATE}/state")
    assert state.is_file(), journal
    assert stat.S_IMODE(os.stat(metrics).st_mode) == 0o644
    assert watch_ok(metrics) == 1

    # a DynamicUser cannot read the originals (0600 root, and under the /tmp its PrivateTmp= replaces), as
    # the watch ran: only the credentials systemd handed it
    box.install_unit("mw-probe.service", "[Service]\nType=oneshot\nDynamicUser=yes\n"
                     f"ExecStart=/bin/cat {lab.env_file} {baseline}\n")
    assert box.systemctl("start", "mw-probe.service").returncode != 0
    denied = box.journal("mw-probe.service")
    assert all(f"{f}: No such file or directory" in denied for f in (lab.env_file, baseline)), denied

    # broken: the bucket's CORS rules deleted. The watch exits 1, and the metrics still get published
    rgw_bucket.admin_client.delete_bucket_cors(Bucket=rgw_bucket.name)
    metrics.unlink()
    r = box.systemctl("start", SERVICE)
    journal = box.journal(SERVICE)
    assert r.returncode != 0, journal
    assert box.show(SERVICE, "Result", "ExecMainStatus") == {"Result": "exit-code", "ExecMainStatus": "1"}, journal
    assert "CHANGED cors: CORS rules removed" in journal
    assert stat.S_IMODE(os.stat(metrics).st_mode) == 0o644
    assert watch_ok(metrics) == 0

    # the root publish step, as systemd runs it, over a state directory the service's user owns: a
    # symlink to a root-only file put in the metrics' place is refused, and nothing is published
    secret = tmp_path / "shadow"
    secret.write_text("root:$6$not-for-prometheus:19000::::::\n")
    secret.chmod(0o600)
    published = metrics.read_text()
    source = box.path(f"/var/lib/private/{STATE}/mastowizard.prom")
    source.unlink()
    source.symlink_to(secret)
    (dropin / "no-watch.conf").write_text("[Service]\nExecStart=\nExecStart=/bin/true\n")   # the watch writes nothing
    box.systemctl("daemon-reload", check=True)
    box.systemctl("start", SERVICE)
    journal = box.journal(SERVICE)
    assert "is not a regular file: metrics not published" in journal, journal
    assert metrics.read_text() == published and not metrics.is_symlink()
    assert sorted(os.listdir(metrics.parent)) == [metrics.name], "no temporary file is left beside the metrics"

    # the timer, enabled as --install enables it, starts the service on its own (its calendar made every
    # second here, with no random delay, so the test need not wait for the hour)
    assert box.systemctl("enable", "--now", TIMER).returncode == 0, box.journal(TIMER)
    assert box.path(f"/etc/systemd/system/timers.target.wants/{TIMER}").is_symlink()
    timer_dropin = box.path(f"/etc/systemd/system/{TIMER}.d")
    timer_dropin.mkdir(exist_ok=True)
    (timer_dropin / "now.conf").write_text("[Timer]\nOnCalendar=\nOnCalendar=*:*:0/1\nRandomizedDelaySec=0\n"
                                           "AccuracySec=1ms\n")
    before = int(box.show(SERVICE, "ExecMainStartTimestampMonotonic")["ExecMainStartTimestampMonotonic"])
    box.systemctl("daemon-reload", check=True)
    box.systemctl("restart", TIMER, check=True)
    deadline = time.monotonic() + 30
    while True:
        started = int(box.show(SERVICE, "ExecMainStartTimestampMonotonic")["ExecMainStartTimestampMonotonic"])
        if started > before:
            break
        assert time.monotonic() < deadline, ("awaited the timer starting the service; timer: "
                                             + str(box.show(TIMER, "ActiveState", "NextElapseUSecRealtime",
                                                            "LastTriggerUSec")))
        time.sleep(0.1)
    assert box.show(TIMER, "ActiveState")["ActiveState"] == "active"
