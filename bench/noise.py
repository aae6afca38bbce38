"""Is the machine ours? Other people's test runs (each starting a whole suite)
share these 2 cores; CPU they burn during a measured window makes our numbers
worse. We cannot stop them, but we can wait a little for quiet, and we measure
and report the CPU spent outside the bench's own processes in every window."""

from __future__ import annotations

import os
import time

import psutil

from bench.procs import cpu_seconds

NCPU = os.cpu_count() or 1


def _machine() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine, all cores."""
    t = psutil.cpu_times()
    idle = t.idle + getattr(t, "iowait", 0.0)
    total = sum(t)
    return total - idle, total


def _ours() -> float:
    """CPU of this process, its live descendants, and its reaped children."""
    return cpu_seconds([os.getpid()])


class CpuWindow:
    """`with CpuWindow() as w: ...` then w.busy_pct (of NCPU*100) and w.other_pct:
    CPU used outside the bench's processes, in % of one core (kernel softirq work
    for our own traffic lands here too, a few % at most)."""

    def __enter__(self) -> CpuWindow:
        self._m0, self._o0, self._t0 = _machine(), _ours(), time.monotonic()
        return self

    def __exit__(self, *exc: object) -> None:
        (b1, t1), o1 = _machine(), _ours()
        b0, t0 = self._m0
        wall = max(1e-9, time.monotonic() - self._t0)
        self.seconds = wall
        # psutil.cpu_times() sums all cores: busy/total seconds, total ~ wall * NCPU.
        self.busy_pct = 100 * NCPU * (b1 - b0) / max(1e-9, t1 - t0)
        self.ours_pct = 100 * (o1 - self._o0) / wall
        self.other_pct = max(0.0, self.busy_pct - self.ours_pct)

    def as_dict(self) -> dict:
        return {
            "machine_busy_pct": self.busy_pct,
            "bench_processes_cpu_pct": self.ours_pct,
            "other_cpu_pct": self.other_pct,
        }


def wait_quiet(max_wait: float, threshold_pct: float = 25.0) -> float:
    """Wait (up to max_wait s) until CPU outside our processes stays under
    threshold_pct of one core for a second; returns the last reading."""
    deadline = time.monotonic() + max_wait
    while True:
        with CpuWindow() as w:
            time.sleep(1.0)
        if w.other_pct < threshold_pct or time.monotonic() > deadline:
            return w.other_pct
