"""How a command ends: its exit status, and the one line it says on an error."""

from __future__ import annotations

from enum import IntEnum


class ExitStatus(IntEnum):
    OK = 0
    CHECK_FAILED = 1          # a check failed, or a command on the host did
    BAD_INPUT = 2             # bad input or an unusable target: nothing was written
    INTERNAL_ERROR = 3        # a defect: rerun with MASTOWIZARD_DEBUG=1 and report it
    INTERRUPTED = 130

    @classmethod
    def of(cls, ok: bool) -> ExitStatus:
        return cls.OK if ok else cls.CHECK_FAILED


def error_line(message: str) -> str:
    """Every error the CLI reports is this one line on stderr."""
    return f"mastowizard: {message}"
