"""What the operator chose, saved as the profile (nothing secret) so a rerun resumes; and where the
wizard saves the files it offers."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from ..env.file import default_env_file


@dataclass
class Answers:
    """What the operator chose. Saved as the profile (nothing secret) so a rerun resumes."""

    target: str = "local"                 # local | ssh
    ssh: str = ""                         # [user@]host[:port]
    sudo_user: str = ""
    known_hosts: str = ""
    identity: str = ""
    accept_host_key: str = ""
    env_file: str = field(default_factory=default_env_file)
    provider: str = "aws"
    bucket: str = ""
    region: str = ""
    endpoint: str = ""
    addressing: str = ""
    permission: str = ""
    alias_host: str = ""
    protocol: str = "https"
    key_prefix: str = ""
    access_key_id: str = ""
    instance: str = ""
    resolve: list[str] = field(default_factory=list)
    ca_bundle: str = ""
    move: str = ""                        # "disk": media back from the env file's bucket to disk; else to a bucket
    step: str = "target"


def profile_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.expanduser("~/.config")
    return Path(base) / "mastowizard" / "profile.json"


def load_answers(path: Path | None = None) -> Answers:
    p = path or profile_path()
    try:
        data = json.loads(p.read_text())
    except (OSError, ValueError):
        return Answers()
    known = {f.name for f in fields(Answers)}
    return Answers(**{k: v for k, v in data.items() if k in known})


def saved_files_dir() -> str:
    """Where the wizard saves what it offers to save (documents, reports): $MASTOWIZARD_FILES, else
    ~/mastowizard, a place an admin finds again, not whatever directory the wizard started in."""
    return os.path.abspath(os.environ.get("MASTOWIZARD_FILES") or os.path.expanduser("~/mastowizard"))


def save_answers(answers: Answers, path: Path | None = None) -> Path:
    p = path or profile_path()
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(answers), indent=2))
    os.chmod(tmp, 0o600)
    os.replace(tmp, p)
    return p


def save_text(name: str, text: str, directory: str | None = None) -> str:
    """TEXT as the file NAME in ~/mastowizard/ (or DIRECTORY), whole, mode 0600, written
    atomically: a long line (a URL, an nginx block) copied without a terminal's wrapping. Its
    absolute path."""
    directory = os.path.abspath(directory or saved_files_dir())
    os.makedirs(directory, mode=0o700, exist_ok=True)
    path = os.path.join(directory, os.path.basename(name))
    tmp = f"{path}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text if text.endswith("\n") else text + "\n")
    os.replace(tmp, path)
    return path
