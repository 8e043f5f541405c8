"""Reading an instance's .env.production with python-dotenv's parser."""

from __future__ import annotations

import io
import os

from dotenv.parser import parse_stream

from .errors import InputError

DEFAULT_ENV_FILE = "/home/mastodon/live/.env.production"


def parse_values(text: str, source: str = "env file") -> dict[str, str]:
    """Key to value, the last assignment winning (as dotenv does). A line the parser cannot read
    is an error naming the line; a value is never echoed (it may be a secret)."""
    values: dict[str, str] = {}
    for binding in parse_stream(io.StringIO(text)):
        if binding.error:
            line = text.count("\n", 0, text.find(binding.original.string)) + 1 if binding.original.string else "?"
            raise InputError(f"{source} line {line}", "cannot be parsed as KEY=VALUE",
                             "fix the quoting on that line (close every quote) or comment it out with #")
        if binding.key is not None:
            values[binding.key] = binding.value if binding.value is not None else ""
    return values


def read_values(path: str) -> dict[str, str]:
    field = "--env-file"
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise InputError(field, f"{path} does not exist",
                         "give the instance's .env.production with --env-file PATH") from None
    except IsADirectoryError:
        raise InputError(field, f"{path} is a directory", "give the path of the .env.production file") from None
    except PermissionError:
        raise InputError(field, f"{path} is not readable by {_user()}",
                         "run as the mastodon user or root, or use sudo") from None
    except OSError as e:
        raise InputError(field, f"{path}: {e.strerror}", "check the path") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(field, f"{path} is not UTF-8 text", "save it as UTF-8") from None
    if text.startswith("\ufeff"):
        text = text[1:]
    return parse_values(text, source=os.path.basename(path))


def _user() -> str:
    try:
        import pwd
        return pwd.getpwuid(os.geteuid()).pw_name
    except Exception:  # noqa: BLE001
        return "this user"
