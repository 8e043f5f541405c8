"""Remove what the lab left on this machine, so the next start is what a new machine sees.

Stops every lab server by its PID file, then removes the lab users, the sudoers file, the shared
directory (`/var/lib/mastowizard-lab`) and the lab directory. What the lab installed (Debian
packages, MiniStack's venv and Node's dotenv under `<lab>/tools`, the fleet's venv) stays unless `everything` is
asked for: a new machine installs those through the same command.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from . import COMPONENTS, fleet, procs, prometheus, sshd, stop
from .config import home, tools


def clean(everything: bool = False) -> list[str]:
    removed: list[str] = []
    for name in reversed(COMPONENTS):
        stop(name)
    removed += prometheus.remove()           # Prometheus and node_exporter (monitoring assets' tests), not a component
    removed += fleet.remove(everything)      # before sshd's: its hosts' files are in the SSH lab's directory
    removed += sshd.remove()
    lab = home()
    if lab.exists():
        keep = None if everything else tools()
        for child in sorted(lab.iterdir()):
            if keep is not None and child == keep:
                continue
            shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
            removed.append(str(child))
        if everything:
            lab.rmdir()
    guard = Path("/usr/sbin/policy-rc.d")   # left only if an install was killed half-way
    if guard.exists() and procs.POLICY_MARK in guard.read_text(errors="replace"):
        guard.unlink()
        removed.append(str(guard))
    return removed
