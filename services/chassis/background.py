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
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

# Added to the service's own niceness in the child (0..19; higher yields more).
BACKGROUND_NICENESS = 10
# How often the child looks for its parent (it ends within this of the parent).
PARENT_CHECK_SECONDS = 1.0

T = TypeVar("T")


def _start_child(parent: int) -> None:
    os.nice(BACKGROUND_NICENESS)
    # A killed parent's closed pipe normally ends the child too, but a
    # bench run left one orphaned (its cause not pinned down): watching for
    # the parent makes sure, for the price of a thread waking once a second.
    threading.Thread(target=_exit_with, args=(parent,), daemon=True).start()


def _exit_with(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(0)


class BackgroundProcess:
    """One child process, started on first use, spawned rather than forked
    (the parent holds gRPC and NATS state a fork must not copy). `close()`
    stops it; the interpreter's exit does too, and a child whose parent was
    killed ends within PARENT_CHECK_SECONDS."""

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_child,
                initargs=(os.getpid(),),
            )
        return self._pool

    def start(self, warm: Callable[[], object]) -> None:
        """Start the child now rather than on first use, and have it run `warm`
        (a module-level function: unpickling it imports what the work needs).
        Spawning and importing cost about 2 s of CPU, paid by the first call
        otherwise: inside the first burst of work (issue 12's benchmark window)."""
        self._executor().submit(warm)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor(), fn, *args)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
