"""Reading an instance's .env.production values (python-dotenv's parser, file text kept as is)."""

from __future__ import annotations

import os

from . import DEFAULT_ENV_FILE
from .doc import EnvDocument


def default_env_file() -> str:
    """The env file used when none is given: $MASTOWIZARD_ENV_FILE (an install elsewhere, e.g.
    /opt/mastodon/.env.production), else Mastodon's documented place."""
    return os.environ.get("MASTOWIZARD_ENV_FILE") or DEFAULT_ENV_FILE


def parse_values(text: str, source: str = "env file") -> dict[str, str]:
    """Key to value, the last assignment winning. A line the parser cannot read is an error
    naming the line; a value is never echoed (it may be a secret)."""
    doc = EnvDocument(text, source)
    doc.check_parseable()
    return doc.values()

