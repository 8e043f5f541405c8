"""Before a copy back to disk: is the bucket suspect (privacy.py), as a copy tool leaves it, mostly
private? Each file's mode comes from whether anyone may read its object (0600 when nobody may), so a
bucket rclone filled with its default private ACL would land on disk with every attachment 0600,
which nginx cannot serve. The survey keeps a random sample of each kind's keys (a reservoir: memory
bounded however big the bucket); each sampled object is asked anonymously, and when most of one kind
is private the operator chooses what becomes of the private attachments before anything is written."""

from __future__ import annotations

import random

from .bounded import bounded_map
from .copy import Reservoir
from .privacy import Tally

SAMPLE = 200            # objects asked per kind: a share of 50% or more is told apart from a few suspensions
KINDS = ("public", "attachment")


class Sampler:
    """A uniform random sample of up to SIZE keys of each kind, taken as the listing streams by."""

    def __init__(self, size: int = SAMPLE):
        self.size, self.rng = size, random.Random(0)
        self.reservoirs: dict[str, Reservoir] = {}

    def add(self, kind: str, key: str) -> None:
        if kind in KINDS:
            self.reservoirs.setdefault(kind, Reservoir(self.size, self.rng)).offer(key)

    @property
    def keys(self) -> dict[str, list[str]]:
        return {kind: r.items for kind, r in self.reservoirs.items()}


def sampled_privacy(putter, sampler: Sampler, jobs: int = 32) -> Tally:
    """The sample asked anonymously: per kind, how many of the sampled objects anyone can read. An
    object gone meanwhile, or one that could not be asked, is left out of the count."""
    items = [(kind, key) for kind, keys in sampler.keys.items() for key in keys]
    tally = Tally()
    for (kind, _), public, error in bounded_map(lambda item: putter.anyone_reads(item[1]), items, jobs,
                                                name="mastowizard-sample"):
        if error is None and public is not None:
            tally.add(kind, public)
    return tally
