"""The headless command line: the same engine the wizard uses, for scripts, monitoring and CI.

One module per family of commands (bucket, envfile, instance, checklist, media); each turns its flags
into the engine's values and prints what the engine returns. Exit status: cli/status.py.
"""

from .main import build_parser, main

__all__ = ["build_parser", "main"]
