"""What payments does when an invoice is issued or a payment succeeds, after
the commit that made it so: the record is queued for the integrator's books
(service/sync.py), and its PDF is filed client-visible in the project's
documents (the invoice as issued; a receipt per payment).

The chassis allows one subscription per event type in a service, so each
handler here does both. Filing is exactly once: the upload's request id is
derived from the invoice or payment, so a redelivered event (or a retry
after documents was down) finds the first upload and changes nothing. The
accounting queue is idempotent by its own unique key, so a retried handler
queues nothing twice either.

Documents down, or not yet knowing the project, fails the handler and the
consumer retries it. A refusal that no retry can change (documents says the
file or the request is wrong) is logged and the PDF left unfiled, rather than
sending the event to the dead letters and the books' queue with it: the PDF
can still be downloaded, and the books must not wait on a filing.
"""

from __future__ import annotations

import uuid

from portal.payments.v1 import events_pb2

from services.chassis.auth import Principal
from services.chassis.background import BackgroundProcess
from services.chassis.db import UnitOfWork
from services.chassis.documents_filing import FINAL_REFUSALS, DocumentArchive
from services.chassis.events import Event
from services.chassis.telemetry import get_logger
from services.payments.service.documents import invoice_document, receipt_document
from services.payments.service.sync import queue_issued_invoice, queue_succeeded_payment

log = get_logger(__name__)
INVOICE_NS = uuid.UUID("0b7d0f5e-3a51-4f6e-9c1a-5d2f8e4b7a61")
RECEIPT_NS = uuid.UUID("9e3c2a71-6b4d-4c8f-a0d5-1f7e6b2c9d38")


def _me(tenant_id: str) -> Principal:
    return Principal(kind="service", subject="payments", tenant_id=tenant_id)


async def on_invoice_issued(
    uow: UnitOfWork,
    event: Event[events_pb2.InvoiceIssued],
    *,
    archive: DocumentArchive | None = None,
    background: BackgroundProcess | None = None,
) -> None:
    """`background`: where the PDF is drawn (the chassis' niced child process,
    as the service runs; None: here)."""
    await queue_issued_invoice(uow, event)
    if archive is None:  # no documents service here (a test of the books alone)
        return
    issued = event.payload
    document = await invoice_document(
        uow, _me(event.tenant_id), issued.invoice_id, None, background=background
    )
    await _file(
        archive,
        tenant_id=event.tenant_id,
        project_id=issued.project_id,
        title=f"Invoice {issued.number}",
        description="As issued. The portal's invoice page shows what has been paid since.",
        filename=document.filename,
        data=document.pdf,
        request_id=str(uuid.uuid5(INVOICE_NS, issued.invoice_id)),
    )


async def on_payment_succeeded(
    uow: UnitOfWork,
    event: Event[events_pb2.PaymentSucceeded],
    *,
    archive: DocumentArchive | None = None,
) -> None:
    await queue_succeeded_payment(uow, event)
    if archive is None:
        return
    paid = event.payload
    document = await receipt_document(uow, _me(event.tenant_id), paid.payment_id, None)
    await _file(
        archive,
        tenant_id=event.tenant_id,
        project_id=paid.project_id,
        title=document.title,  # which receipt, how much, when: one per payment
        description="Money received on the invoice, and what was left to pay after it.",
        filename=document.filename,
        data=document.pdf,
        request_id=str(uuid.uuid5(RECEIPT_NS, paid.payment_id)),
    )


async def _file(archive: DocumentArchive, **upload) -> None:
    try:
        await archive.file(**upload)
    except FINAL_REFUSALS as exc:
        log.warning(
            "documents refused a filed PDF; it stays downloadable",
            filename=upload["filename"],
            project_id=upload["project_id"],
            error=str(exc),
        )
