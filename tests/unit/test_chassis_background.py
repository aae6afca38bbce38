"""The chassis' background process: niced, and gone with its parent, even a
parent killed outright (no stray left by a service that was SIGKILLed)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psutil

from services.chassis.background import BACKGROUND_NICENESS, PARENT_CHECK_SECONDS

PARENT = """
import asyncio, os, sys
from services.chassis.background import BackgroundProcess

async def main():
    child = await BackgroundProcess().run(os.getpid)
    print(child, os.getpid(), flush=True)
    await asyncio.sleep(60)  # killed before this ends

asyncio.run(main())
"""


def test_the_child_is_niced_and_ends_when_its_parent_is_killed() -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT],
        stdout=subprocess.PIPE,
        text=True,
        cwd=os.getcwd(),
    )
    try:
        assert parent.stdout is not None
        child_pid, parent_pid = map(int, parent.stdout.readline().split())
        assert parent_pid == parent.pid
        child = psutil.Process(child_pid)
        assert child.nice() == psutil.Process(parent.pid).nice() + BACKGROUND_NICENESS
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(timeout=10)
        deadline = time.monotonic() + 5 * PARENT_CHECK_SECONDS + 5
        while _alive(child) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _alive(child)
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait(timeout=10)


def _alive(p: psutil.Process) -> bool:
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
