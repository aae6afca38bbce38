"""Where a certificate is drawn: on the caller's thread (a download, a test)
or, for the certificates filed after approvals, in the chassis
`BackgroundProcess` (a child process at a lower CPU priority).

Why: drawing one takes 10-30 ms of CPU (the order and the logo decide; about
40% less since issue 12's layout work) and holds the event loop the whole
time. Filed by our consumer of `change_order.approved` on the loop that also
answers ApproveChangeOrder, a burst of approvals had each approval wait
behind the certificates of the ones before it (issue 12's benchmark: RPC
deadlines exceeded, approvals shed). In the child the loop stays free and
the approvals go first when the CPU is short; the certificate is filed a
little later, still exactly once (the filing's request id does not change).
The bytes are the same either way: the drawing is deterministic.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from services.changeorders import certificate
from services.changeorders.domain_audit import Entry, Verdict
from services.changeorders.domain_orders import SignedContent
from services.chassis.background import BackgroundProcess
from services.chassis.pdf import Letterhead


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


class BackgroundRenderer:
    """In the chassis background process (started on first use)."""

    def __init__(self, process: BackgroundProcess | None = None, *, start: bool = False) -> None:
        """`start`: the child now (the service at start-up), not at the first approval."""
        self._process = process or BackgroundProcess()
        if start:
            self._process.start(ready)

    async def render(
        self,
        content: SignedContent,
        signature: certificate.SignatureBlock,
        entries: Sequence[Entry],
        verdict: Verdict,
        letterhead: Letterhead,
    ) -> bytes:
        return await self._process.run(
            certificate.render_certificate, content, signature, list(entries), verdict, letterhead
        )

    def close(self) -> None:
        self._process.close()


def ready() -> bool:
    """Run in the child at start: unpickling this imports this module, and so the
    certificate layout and fpdf2, before the first certificate is due."""
    return True
