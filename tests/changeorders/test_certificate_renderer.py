"""Certificates filed after approvals are drawn in a child process at a
lower CPU priority: the same bytes as drawn in place, the loop free while it
draws, and no process left behind."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime, timedelta

import psutil

from services.changeorders import certificate
from services.changeorders import domain_audit as audit
from services.changeorders import domain_orders as do
from services.changeorders.certificate_renderer import BackgroundRenderer, InlineRenderer
from services.changeorders.domain_changes import ChangeKind, LineChange
from services.changeorders.domain_diff import build_diff, client_diff
from services.changeorders.domain_schedule import Schedule, stage_moves
from services.chassis.background import BACKGROUND_NICENESS
from services.chassis.pdf import Letterhead
from tests.changeorders.test_domain_changes import CONTRACT
from tests.changeorders.test_domain_decisions import chain

SIGNED = datetime(2031, 3, 2, 10, 30, tzinfo=UTC)


def _parts() -> tuple:
    change = LineChange(
        ChangeKind.ADDED, room_key="R1", description="Sub", quantity=1, unit_price_minor=50_000
    )
    _, diff = build_diff(CONTRACT, [change], key_prefix="CO-001", signed_total_minor=9)
    content = do.SignedContent(
        number="CO-001",
        revision=1,
        project_reference="PRJ-0001",
        project_name="Cinema",
        title="Second subwoofer",
        reason="Bigger room",
        diff=client_diff(diff),
        schedule=Schedule(3, "install"),
        stages=stage_moves([], Schedule(3, "install")),
        approval_deadline=(SIGNED + timedelta(days=3)).isoformat(),
        consent_text=do.CONSENT_TEXT,
    )
    signature = certificate.SignatureBlock(
        signer_name="Jane Harrison",
        signer_email="jane@example.com",
        auth_method="password",
        viewed_at=SIGNED - timedelta(minutes=5),
        consented_at=SIGNED - timedelta(minutes=1),
        signed_at=SIGNED,
        ip="203.0.113.7",
        user_agent="Mozilla/5.0",
        content_sha256=content.sha256(),
        consent_text=do.CONSENT_TEXT,
    )
    entries = chain()
    return (
        content,
        signature,
        entries,
        audit.verify("co-1", entries),
        Letterhead(integrator_name="Acme Home Cinema", time_zone="Europe/London"),
    )


def _children() -> list[psutil.Process]:
    return psutil.Process().children(recursive=True)


async def test_the_background_draws_the_same_bytes_in_a_niced_child_and_leaves_none() -> None:
    parts = _parts()
    here = await InlineRenderer().render(*parts)
    before = {p.pid for p in _children()}
    background = BackgroundRenderer()
    try:
        there = await background.render(*parts)
        again = await background.render(*parts)  # the same child, still there
        drawing = [p for p in _children() if p.pid not in before]
        assert len(drawing) >= 1
        assert max(p.nice() for p in drawing) == os.nice(0) + BACKGROUND_NICENESS
    finally:
        background.close()
    assert here == there == again and here.startswith(b"%PDF")
    assert [p.pid for p in drawing if _alive(p) and not _tracker(p)] == []


async def test_a_started_renderer_has_its_child_up_before_the_first_certificate() -> None:
    before = {p.pid for p in _children()}
    background = BackgroundRenderer(start=True)
    try:
        for _ in range(100):  # spawning and importing take a moment
            up = [p for p in _children() if p.pid not in before and not _tracker(p)]
            if up and all(p.nice() == os.nice(0) + BACKGROUND_NICENESS for p in up):
                break
            await asyncio.sleep(0.1)
        assert up and max(p.nice() for p in up) == os.nice(0) + BACKGROUND_NICENESS
        assert (await background.render(*_parts())).startswith(b"%PDF")
    finally:
        background.close()


def _alive(p: psutil.Process) -> bool:
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _tracker(p: psutil.Process) -> bool:
    """multiprocessing's resource tracker: one per parent, it ends with it."""
    try:
        return "resource_tracker" in " ".join(p.cmdline())
    except psutil.NoSuchProcess:
        return True


async def test_the_loop_answers_while_the_background_draws() -> None:
    """What moving it buys: other work on the loop goes on during the draws
    (drawn in place, a draw never yields, so nothing else would run)."""
    parts = _parts()
    background = BackgroundRenderer()
    try:
        await background.render(*parts)  # the child is up
        ran = 0
        drawing = True

        async def other_work() -> None:
            nonlocal ran
            while drawing:
                ran += 1
                await asyncio.sleep(0.001)

        worker = asyncio.create_task(other_work())
        await asyncio.sleep(0)  # it starts
        ran = 0
        await asyncio.gather(*(background.render(*parts) for _ in range(5)))
        during, drawing = ran, False
        await worker
    finally:
        background.close()
    # Five draws take 75 ms or more: the loop ran the other work all along.
    assert during >= 10
