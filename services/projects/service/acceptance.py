"""Proposals, the client's side: the approver accepts the version they were
shown, with an e-signature; and the signed copy as a PDF."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from portal.common.v1 import common_pb2
from portal.projects.v1 import events_pb2
from sqlalchemy import select

from services.chassis.access import require_open_portal
from services.chassis.auth import Principal
from services.chassis.db import UnitOfWork
from services.chassis.errors import InvalidTransition
from services.chassis.events import Event
from services.chassis.letterhead import layout
from services.chassis.validation import check_request_id
from services.projects import domain_acceptance, pdf
from services.projects.domain_proposals import ProposalStatus, SignedContent
from services.projects.models import Project, Proposal, ProposalSignature
from services.projects.service.common import Sessions, now_utc
from services.projects.service.proposal_common import (
    WAITING_KIND,
    ProposalView,
    load_proposal,
    money,
    proposal_view,
    signature_of,
)
from services.projects.service.waiting import resolve_waiting_item

# -- the client: accept --------------------------------------------------------------


async def accept_proposal(
    *,
    sessions: Sessions,
    principal: Principal,
    request_id: str,
    proposal_id: str,
    signer_name: str,
    consent: bool,
    content_sha256: str,
    ip: str,
    user_agent: str,
    signer_email: str = "",
    client_name: str = "",
    letterhead: common_pb2.Letterhead | None = None,
) -> ProposalView:
    """The client's approver signs the version they were shown. One time: the
    same request again answers with the accepted proposal; anything else is refused."""
    tenant_id = principal.require_approver("accept a proposal")
    request_id = check_request_id(request_id) or str(uuid.uuid4())
    async with UnitOfWork(sessions, tenant_id) as uow:
        # By our own copy: an archived customer signs nothing, whatever the token says.
        await require_open_portal(uow, principal, write=True)
        # Checks the project is this contact's, too.
        project, proposal = await load_proposal(uow, principal, proposal_id, lock=True)
        plan = domain_acceptance.plan_acceptance(
            request_id=request_id,
            earlier=await _earlier_use(uow, proposal, request_id),
            status=proposal.status,
            version=proposal.version,
            stored_sha256=proposal.content_sha256 or "",
            given_sha256=content_sha256,
            consent=consent,
            signer_name=signer_name,
            ip=ip,
            user_agent=user_agent,
        )
        if plan.evidence is None:  # a retry of this acceptance
            return await proposal_view(uow, principal, proposal)
        now = now_utc()
        signature = _signature(principal, proposal, request_id, plan.evidence, now)
        signature.signer_email, signature.client_name = domain_acceptance.kept_identity(
            signer_email, client_name
        )
        await _record_acceptance(uow, project, proposal, signature, letterhead, now)
        view = await proposal_view(uow, principal, proposal)
        await uow.commit()
    return view


def _signature(
    principal: Principal,
    proposal: Proposal,
    request_id: str,
    acceptance: domain_acceptance.Acceptance,
    now: datetime,
) -> ProposalSignature:
    """The evidence kept: who signed (by their session), what (the content's
    hash) under which consent text, when, and from where."""
    return ProposalSignature(
        tenant_id=proposal.tenant_id,
        proposal_id=proposal.id,
        request_id=request_id,
        signer_name=acceptance.signer_name,
        signer_contact_id=principal.subject,
        signer_session_id=principal.session_id or "",
        consent_text=proposal.consent_text,
        signed_at=now,
        ip=acceptance.ip,
        user_agent=acceptance.user_agent,
        content_sha256=proposal.content_sha256 or "",
    )


async def _record_acceptance(
    uow: UnitOfWork,
    project: Project,
    proposal: Proposal,
    signature: ProposalSignature,
    letterhead: common_pb2.Letterhead | None,
    now: datetime,
) -> None:
    """Accepted: the signature kept, the client's waiting item resolved, the event queued."""
    uow.session.add(signature)
    proposal.status = ProposalStatus.ACCEPTED
    proposal.accepted_at = proposal.updated_at = now
    await resolve_waiting_item(uow, kind=WAITING_KIND, key=str(proposal.id), now=now)
    uow.publish(
        _accepted_event(project, proposal, signature, letterhead),
        aggregate_type="proposal",
        aggregate_id=str(proposal.id),
        occurred_at=now,
    )
    await uow.flush()


async def _earlier_use(
    uow: UnitOfWork, proposal: Proposal, request_id: str
) -> domain_acceptance.EarlierUse:
    if proposal.status == ProposalStatus.ACCEPTED:
        signature = await signature_of(uow, proposal)
        return domain_acceptance.EarlierUse(
            accepted_by_request=signature.request_id if signature is not None else None
        )
    used = await uow.session.scalar(
        select(ProposalSignature.id).where(ProposalSignature.request_id == request_id)
    )
    return domain_acceptance.EarlierUse(request_id_taken=used is not None)


def _accepted_event(
    project: Project,
    proposal: Proposal,
    signature: ProposalSignature,
    letterhead: common_pb2.Letterhead | None,
) -> events_pb2.ProposalAccepted:
    return events_pb2.ProposalAccepted(
        proposal_id=str(proposal.id),
        project_id=str(project.id),
        project_name=project.name,
        reference=project.reference,
        customer_id=str(project.customer_id),
        version=proposal.version,
        total=money(proposal.total_minor, proposal.currency),
        tax=money(proposal.tax_minor, proposal.currency),
        signer_name=signature.signer_name,
        signer_email=signature.signer_email,
        content_sha256=signature.content_sha256,
        letterhead=letterhead,
        client_name=signature.client_name,
        site_address=project.site_address,
    )


# -- the signed copy -----------------------------------------------------------------


@dataclass(frozen=True)
class SignedPdf:
    pdf: bytes
    filename: str


async def get_signed_proposal_pdf(
    *,
    sessions: Sessions,
    principal: Principal,
    proposal_id: str,
    letterhead: common_pb2.Letterhead | None = None,
) -> SignedPdf:
    """`letterhead`: the integrator's, from the caller (the gateway, or the
    accepted event); the client and the site are the signature's and project's."""
    async with UnitOfWork(sessions, principal.require_reader()) as uow:
        return await signed_proposal_pdf(uow, principal, proposal_id, letterhead)


async def signed_proposal_pdf(
    uow: UnitOfWork,
    principal: Principal,
    proposal_id: str,
    letterhead: common_pb2.Letterhead | None = None,
) -> SignedPdf:
    """The signed copy, read in the caller's transaction (the gRPC read's own,
    or the consumer's when the accepted event files it)."""
    project, proposal = await load_proposal(uow, principal, proposal_id)
    signature = await signature_of(uow, proposal)
    if proposal.status != ProposalStatus.ACCEPTED or signature is None:
        raise InvalidTransition("only an accepted proposal has a signed copy", field="proposal_id")
    content = SignedContent.from_json(proposal.content_json or "")
    document = pdf.render_signed_proposal(
        content,
        pdf.SignatureBlock(
            signer_name=signature.signer_name,
            signer_contact_id=signature.signer_contact_id,
            signer_email=signature.signer_email,
            signed_at=signature.signed_at,
            ip=signature.ip,
            user_agent=signature.user_agent,
            content_sha256=signature.content_sha256,
            consent_text=signature.consent_text,
        ),
        replace(
            layout(letterhead or common_pb2.Letterhead()),
            client_name=signature.client_name,
            site=project.site_address,
        ),
    )
    filename = f"{content.project_reference}-proposal-v{content.version}-signed.pdf"
    return SignedPdf(document, filename)


async def on_proposal_accepted(
    uow: UnitOfWork,
    event: Event[events_pb2.ProposalAccepted],
    *,
    documents: SignedCopyArchive,
) -> None:
    """File the signed copy in the project's documents, client-visible.

    Documents may be down or may not know the project yet: the handler fails
    and the consumer retries it; the request id makes a late retry a no-op.
    """
    p = event.payload
    me = Principal(kind="service", subject="projects", tenant_id=event.tenant_id)
    signed = await signed_proposal_pdf(uow, me, p.proposal_id, p.letterhead)
    await documents.store_signed_copy(
        tenant_id=event.tenant_id,
        project_id=p.project_id,
        title=f"Signed proposal v{p.version}",
        filename=signed.filename,
        data=signed.pdf,
        request_id=str(uuid.uuid5(SIGNED_COPY_NS, p.proposal_id)),
    )


class SignedCopyArchive(Protocol):
    async def store_signed_copy(
        self,
        *,
        tenant_id: str,
        project_id: str,
        title: str,
        filename: str,
        data: bytes,
        request_id: str,
    ) -> None: ...


SIGNED_COPY_NS = uuid.UUID("5b0c3f4e-7d2a-4c8e-9f61-2e4d8a1b3c57")
