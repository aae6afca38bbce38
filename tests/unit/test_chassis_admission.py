"""chassis.admission: at most `in_flight` run, at most `waiting` wait (each up
to `wait_seconds`), the rest are refused at once."""

from __future__ import annotations

import asyncio
import time

import pytest

from services.chassis.admission import Admission
from services.chassis.errors import Overloaded


async def test_a_call_beyond_the_queue_is_refused_at_once_and_a_waiter_gets_the_freed_slot():
    gate = Admission(in_flight=1, waiting=1, wait_seconds=5)
    release = asyncio.Event()

    async def running() -> None:
        async with gate.admit("approvals"):
            await release.wait()

    first = asyncio.ensure_future(running())
    await asyncio.sleep(0)
    second = asyncio.ensure_future(running())  # waits for the slot
    await asyncio.sleep(0)
    assert gate.waiting == 1

    started = time.monotonic()
    with pytest.raises(Overloaded) as refused:
        async with gate.admit("approvals"):
            pass
    assert time.monotonic() - started < 0.5  # at once, not after wait_seconds
    assert refused.value.code == "overloaded" and refused.value.retry_after == 1
    assert gate.refused == 1

    release.set()
    await asyncio.gather(first, second)  # the waiter ran once the first was done
    assert gate.waiting == 0 and gate.refused == 1


async def test_a_waiter_is_refused_after_wait_seconds():
    gate = Admission(in_flight=1, waiting=4, wait_seconds=0.05)
    async with gate.admit("approvals"):
        with pytest.raises(Overloaded):
            async with gate.admit("approvals"):
                pass
    async with gate.admit("approvals"):  # the slot is free again
        pass
    assert gate.refused == 1


async def test_a_call_with_too_little_of_its_deadline_left_is_refused_even_with_room():
    gate = Admission(in_flight=4, waiting=4, wait_seconds=1, needs_seconds=2.5)
    with pytest.raises(Overloaded):
        async with gate.admit("approvals", time_left=2.0):
            pass
    async with gate.admit("approvals", time_left=4.8):  # the gateway's 5 s, fresh
        pass
    async with gate.admit("approvals", time_left=None):  # no deadline: not this rule
        pass
    assert gate.refused == 1
