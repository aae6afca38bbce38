"""An approved order's certificate filed client-visible in the project's
documents, after the commit that approved it (a consumer of our own
`change_order.approved`, as projects files the signed proposal).

Exactly once: the upload's request id is derived from the order and the
revision approved, so a redelivered event (or a retry after documents was
down) finds the first upload and changes nothing. The letterhead is the one
the signer's gateway sent with the approval, carried in the event: no gateway
is there when the consumer runs.

The drawing is done by `renderer`: in production a niced child process
(`certificate_renderer.BackgroundRenderer`), so a burst of approvals is not
answered behind its own certificates.

Documents down, or not yet knowing the project, fails the handler and the
consumer retries it. A refusal no retry can change is logged and the
certificate left unfiled (as payments does with its invoices): it can still
be downloaded from the order, and the event must not go to the dead letters.
"""

from __future__ import annotations

import uuid

from portal.changeorders.v1 import events_pb2

from services.changeorders.certificate_renderer import CertificateRenderer
from services.changeorders.service.certificates import certificate_pdf
from services.chassis.auth import Principal
from services.chassis.db import UnitOfWork
from services.chassis.documents_filing import FINAL_REFUSALS, DocumentArchive
from services.chassis.events import Event
from services.chassis.telemetry import get_logger

log = get_logger(__name__)
CERTIFICATE_NS = uuid.UUID("e2b64f1d-7c38-4a05-9f6e-3d8a1b5c7e92")


def certificate_request_id(change_order_id: str, revision: int) -> str:
    return str(uuid.uuid5(CERTIFICATE_NS, f"{change_order_id}/{revision}"))


async def on_change_order_approved(
    uow: UnitOfWork,
    event: Event[events_pb2.ChangeOrderApproved],
    *,
    archive: DocumentArchive | None = None,
    renderer: CertificateRenderer | None = None,
) -> None:
    if archive is None:  # no documents service here (a test of changeorders alone)
        return
    approved = event.payload
    me = Principal(kind="service", subject="changeorders", tenant_id=event.tenant_id)
    document = await certificate_pdf(
        uow, me, approved.change_order_id, approved.letterhead, renderer=renderer
    )
    try:
        await archive.file(
            tenant_id=event.tenant_id,
            project_id=approved.project_id,
            title=f"{approved.number} approved: {approved.title}",
            description="The change order as the client signed it, with the signature "
            "record and the audit log.",
            filename=document.filename,
            data=document.pdf,
            request_id=certificate_request_id(approved.change_order_id, approved.revision),
        )
    except FINAL_REFUSALS as exc:
        log.warning(
            "documents refused a change order's certificate; it stays downloadable",
            change_order_id=approved.change_order_id,
            project_id=approved.project_id,
            error=str(exc),
        )
