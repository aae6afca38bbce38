"""An approved order's certificate, for staff and for the client who may see it."""

from __future__ import annotations

from dataclasses import dataclass

from portal.common.v1 import common_pb2
from sqlalchemy import select

from services.changeorders import certificate
from services.changeorders.certificate_renderer import CertificateRenderer, InlineRenderer
from services.changeorders.domain_orders import SignedContent, Status
from services.changeorders.models import Approval, Revision
from services.changeorders.service.audit import trail_of
from services.changeorders.service.common import Sessions, load_order
from services.chassis.auth import Principal
from services.chassis.db import UnitOfWork
from services.chassis.errors import InvalidTransition
from services.chassis.letterhead import layout


@dataclass(frozen=True)
class Certificate:
    pdf: bytes
    filename: str


async def get_certificate_pdf(
    *,
    sessions: Sessions,
    principal: Principal,
    change_order_id: str,
    letterhead: common_pb2.Letterhead | None = None,
) -> Certificate:
    """`letterhead`: the integrator's, from the caller (the gateway); the
    client named is the one the signer's session said they were."""
    async with UnitOfWork(sessions, principal.require_reader()) as uow:
        return await certificate_pdf(uow, principal, change_order_id, letterhead)


async def certificate_pdf(
    uow: UnitOfWork,
    principal: Principal,
    change_order_id: str,
    letterhead: common_pb2.Letterhead | None = None,
    renderer: CertificateRenderer | None = None,
) -> Certificate:
    """Read in the caller's transaction (the gRPC read's own, or the consumer's
    when the approved event files it). `renderer`: where it is drawn (here
    by default; the filing consumer's draws in the background)."""
    order = await load_order(uow, principal, change_order_id)
    signature = await uow.session.scalar(
        select(Approval).where(Approval.change_order_id == order.id)
    )
    if order.status != Status.APPROVED or signature is None:
        raise InvalidTransition(
            f"{order.reference} has not been approved: a certificate is made once it is",
            field="change_order_id",
        )
    revision = await uow.session.get(Revision, signature.revision_id)
    assert revision is not None and revision.content_json
    content = SignedContent.from_json(revision.content_json)
    trail = await trail_of(uow, order)
    document = await (renderer or InlineRenderer()).render(
        content,
        certificate.SignatureBlock(
            signer_name=signature.signer_name,
            signer_email=signature.signer_email,
            auth_method=signature.auth_method,
            viewed_at=signature.viewed_at,
            consented_at=signature.consented_at,
            signed_at=signature.signed_at,
            ip=signature.ip,
            user_agent=signature.user_agent,
            content_sha256=signature.content_sha256,
            consent_text=signature.consent_text,
        ),
        trail.entries,
        trail.verdict,
        layout(letterhead or common_pb2.Letterhead(), client_name=signature.client_name),
    )
    return Certificate(document, certificate.filename(content))
