"""What a confirmation says first."""

from __future__ import annotations


def risk_first(lines: list[str], gap) -> list[str]:
    """A confirmation's lines: what the action risks first when it risks losing media, last otherwise."""
    if gap is None:
        return lines
    return [*gap.lines(), *lines] if not gap.safe else [*lines, *gap.lines()]
