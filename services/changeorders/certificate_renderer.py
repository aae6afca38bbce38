"""Where a certificate is drawn: on the caller's thread (a download, a test)
or, for the certificates filed after approvals, in a child process at a
lower CPU priority.

Why a child process: drawing one (fpdf2, pure Python) takes 15-20 ms of CPU
and holds the event loop the whole time. Filed by our consumer of
`change_order.approved` on the loop that also answers ApproveChangeOrder, a
burst of approvals had each approval wait behind the certificates of the
ones before it (issue 12's benchmark: RPC deadlines exceeded, approvals shed).
In the child the loop stays free, and the niceness lets the approvals and
the consumers that move budget, invoices and work orders go first when the
CPU is short; the certificate is filed a little later, still exactly once
(the filing's request id does not change). The bytes are the same either
way: the drawing is deterministic and gets the same values.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Protocol

from services.changeorders import certificate
from services.changeorders.domain_audit import Entry, Verdict
from services.changeorders.domain_orders import SignedContent
from services.chassis.pdf import Letterhead

# Added to the service's own niceness in the child (0..19; higher yields more).
BACKGROUND_NICENESS = 10


class CertificateRenderer(Protocol):
    async def render(
        self,
        content: SignedContent,
        signature: certificate.SignatureBlock,
        entries: Sequence[Entry],
        verdict: Verdict,
        letterhead: Letterhead,
    ) -> bytes: ...


class InlineRenderer:
    """On the caller's thread: for a download, which someone is waiting for."""

    async def render(
        self,
        content: SignedContent,
        signature: certificate.SignatureBlock,
        entries: Sequence[Entry],
        verdict: Verdict,
        letterhead: Letterhead,
    ) -> bytes:
        return certificate.render_certificate(content, signature, entries, verdict, letterhead)


def _lower_priority() -> None:
    os.nice(BACKGROUND_NICENESS)


class BackgroundRenderer:
    """One child process, started on first use (spawned, not forked: the
    parent holds gRPC and NATS state a fork must not copy), niced. `close()`
    stops it; a child whose parent died exits when its pipe closes."""

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

    async def render(
        self,
        content: SignedContent,
        signature: certificate.SignatureBlock,
        entries: Sequence[Entry],
        verdict: Verdict,
        letterhead: Letterhead,
    ) -> bytes:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._executor(),
            certificate.render_certificate,
            content,
            signature,
            list(entries),
            verdict,
            letterhead,
        )

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
