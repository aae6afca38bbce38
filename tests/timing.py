"""Does an answer take longer for a registered address than for an unknown one?
Measured the way an attacker would, robustly enough for a shared, busy machine."""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

QUIET_TOLERANCE_MS = 2.0
LOADED_TOLERANCE = 0.10  # of the median, when the machine is busy enough to exceed 2 ms


@dataclass
class Timings:
    registered: list[float] = field(default_factory=list)  # milliseconds
    unknown: list[float] = field(default_factory=list)

    @property
    def medians(self) -> tuple[float, float]:
        return statistics.median(self.registered), statistics.median(self.unknown)

    @property
    def gap(self) -> float:
        """How much longer a registered address takes: the median of the difference
        within each pair, the two taken moments apart. On a busy machine the
        difference of the two medians wanders by several ms from run to run (each
        median follows the load); within a pair the load is the same for both."""
        return statistics.median(r - u for r, u in zip(self.registered, self.unknown, strict=True))

    @property
    def tolerance(self) -> float:
        """2 ms on a quiet machine. When every sample is slowed by other work (the
        tests share two cores with other runs) the bound grows with it: 10% of the
        median. The leak this guards against was a registered address taking about
        twice as long (13-18 ms more at medians of 12-30 ms)."""
        return max(QUIET_TOLERANCE_MS, LOADED_TOLERANCE * self.medians[1])

    def __str__(self) -> str:
        registered, unknown = self.medians
        return (
            f"median ms: registered {registered:.2f}, unknown {unknown:.2f} "
            f"(paired gap {self.gap:+.2f}, tolerance {self.tolerance:.2f}, "
            f"{len(self.registered)} + {len(self.unknown)} samples)"
        )


async def time_pairs(
    pairs: Sequence[tuple[str, str]], ask: Callable[[str, int], Awaitable[object]], *, seed: str
) -> Timings:
    """`ask(address, i)` for each (registered, unknown) pair, one right after the
    other in a random order: load that comes and goes falls on both alike, and
    whatever one request leaves behind lands as often on either kind."""
    order = random.Random(seed)
    timings = Timings()
    for i, (registered, unknown) in enumerate(pairs):
        both = [(True, registered), (False, unknown)]
        order.shuffle(both)
        for j, (is_registered, email) in enumerate(both):
            started = time.perf_counter()
            await ask(email, 2 * i + j)
            took = (time.perf_counter() - started) * 1000
            (timings.registered if is_registered else timings.unknown).append(took)
    return timings
