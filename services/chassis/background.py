"""CPU-heavy work that nobody is waiting for, off the service's event loop
and behind the work somebody is waiting for.

A service draws PDFs after the commit that made them due (changeorders'
certificates, payments' invoices). Drawing one (fpdf2, pure Python) takes
15-20 ms of CPU and, on the event loop, holds up everything else the
process does: a burst of approvals had its approvals and the consumers that
move budget and invoices wait behind its own drawings (issue 12's
benchmark). `BackgroundProcess` runs such a function in one child process
at a lower CPU priority: the loop stays free, and when the CPU is short the
kernel gives it to the requests and consumers first. The function and its
arguments must be picklable (plain dataclasses are), and it must be
deterministic, so that what it returns does not depend on where it ran.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

# Added to the service's own niceness in the child (0..19; higher yields more).
BACKGROUND_NICENESS = 10

T = TypeVar("T")


def _lower_priority() -> None:
    os.nice(BACKGROUND_NICENESS)


class BackgroundProcess:
    """One child process, started on first use, spawned rather than forked
    (the parent holds gRPC and NATS state a fork must not copy). `close()`
    stops it; the interpreter's exit does too, and a child whose parent was
    killed exits when its pipe closes."""

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_lower_priority,
            )
        return self._pool

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor(), fn, *args)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
