"""Proposals, the integrator's side: draft a version from the project's rooms,
edit it, send it; and reading them (clients never see drafts)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import asdict
from datetime import datetime
from typing import Any

from portal.projects.v1 import events_pb2
from sqlalchemy import delete, func, select

from services.chassis.auth import Principal
from services.chassis.db import UnitOfWork
from services.chassis.idempotency import fingerprint, refuse_reuse
from services.chassis.validation import check_request_id
from services.projects import domain_proposals
from services.projects.domain_proposals import ProposalStatus
from services.projects.models import Project, Proposal, ProposalRoom
from services.projects.service.common import (
    EDITOR_ROLE,
    Sessions,
    load_project,
    now_utc,
)
from services.projects.service.proposal_common import (
    WAITING_KIND,
    ProposalView,
    accepted_version,
    apply_terms,
    as_snapshot,
    load_proposal,
    money,
    proposal_view,
    snapshot_of,
    take_snapshot,
    terms_of,
    visible_proposals,
)
from services.projects.service.rooms import load_rooms
from services.projects.service.waiting import open_waiting_item, resolve_waiting_item

# -- staff: draft and send -----------------------------------------------------------


async def create_proposal(
    *,
    sessions: Sessions,
    principal: Principal,
    request_id: str,
    project_id: str,
    title: str,
    introduction: str,
    labour_minor: int,
    discount_minor: int,
    tax_rate_bps: int,
) -> ProposalView:
    """A new draft version (max + 1) with a snapshot of the project's rooms and lines."""
    tenant_id = principal.require_editor(EDITOR_ROLE)
    terms = domain_proposals.check_terms(
        title=title,
        introduction=introduction,
        labour_minor=labour_minor,
        discount_minor=discount_minor,
        tax_rate_bps=tax_rate_bps,
    )
    request_id = check_request_id(request_id) or str(uuid.uuid4())
    now = now_utc()
    async with UnitOfWork(sessions, tenant_id) as uow:
        project = await load_project(uow, principal, project_id, lock=True)
        digest = fingerprint("CreateProposal", project_id=project.id, **asdict(terms))
        existing = await uow.session.scalar(
            select(Proposal).where(Proposal.request_id == request_id)
        )
        if existing is not None:
            refuse_reuse(stored=existing.request_sha256, given=digest)
            return await proposal_view(uow, principal, existing)
        domain_proposals.check_new_version(await accepted_version(uow, project.id))
        last = await uow.session.scalar(
            select(func.max(Proposal.version)).where(Proposal.project_id == project.id)
        )
        proposal = _draft(project, request_id, (last or 0) + 1, principal.subject, now)
        proposal.request_sha256 = digest
        rows = await load_rooms(uow, project.id)
        apply_terms(proposal, terms, as_snapshot(rows))  # terms and totals, checked
        uow.session.add(proposal)
        await uow.flush()
        await take_snapshot(uow, project, proposal, rows)
        view = await proposal_view(uow, principal, proposal)
        await uow.commit()
    return view


def _draft(
    project: Project, request_id: str, version: int, created_by: str, now: datetime
) -> Proposal:
    return Proposal(
        id=uuid.uuid4(),
        tenant_id=project.tenant_id,
        project_id=project.id,
        request_id=request_id,
        version=version,
        status=ProposalStatus.DRAFT,
        currency=project.currency,
        # The wording the client will be asked to agree to (re-set when sent).
        consent_text=domain_proposals.CONSENT_TEXT,
        created_by=created_by,
        created_at=now,
        updated_at=now,
    )


async def update_proposal(
    *,
    sessions: Sessions,
    principal: Principal,
    proposal_id: str,
    changes: Mapping[str, Any],
    refresh_lines: bool,
) -> ProposalView:
    """Drafts only. Changes only the terms in `changes` (from the request's field
    mask); refresh_lines re-copies the project's current rooms and lines."""
    tenant_id = principal.require_editor(EDITOR_ROLE)
    async with UnitOfWork(sessions, tenant_id) as uow:
        project, proposal = await load_proposal(uow, principal, proposal_id, lock=True)
        domain_proposals.require_draft(proposal.status, proposal.version)
        terms = domain_proposals.change_terms(terms_of(proposal), changes)
        if refresh_lines:
            rows = await load_rooms(uow, project.id)
            apply_terms(proposal, terms, as_snapshot(rows))
            await uow.session.execute(
                delete(ProposalRoom).where(ProposalRoom.proposal_id == proposal.id)
            )
            await take_snapshot(uow, project, proposal, rows)
        else:
            apply_terms(proposal, terms, await snapshot_of(uow, proposal.id))
        proposal.updated_at = now_utc()
        view = await proposal_view(uow, principal, proposal)
        await uow.commit()
    return view


async def send_proposal(
    *, sessions: Sessions, principal: Principal, proposal_id: str
) -> ProposalView:
    """Freezes the draft, hashes what the client will sign, supersedes the
    version in front of the client, and tells the client (an event and a
    waiting item). Sending a version that is already sent answers with it."""
    tenant_id = principal.require_editor(EDITOR_ROLE)
    now = now_utc()
    async with UnitOfWork(sessions, tenant_id) as uow:
        project, proposal = await load_proposal(uow, principal, proposal_id, lock=True)
        if proposal.status == ProposalStatus.SENT:
            return await proposal_view(uow, principal, proposal)  # a retry: it went once
        latest_sent = await uow.session.scalar(
            select(func.max(Proposal.version)).where(
                Proposal.project_id == project.id, Proposal.status != ProposalStatus.DRAFT
            )
        )
        rooms = await snapshot_of(uow, proposal.id)
        domain_proposals.check_send(
            status=proposal.status,
            version=proposal.version,
            lines=domain_proposals.line_count(rooms),
            accepted_version=await accepted_version(uow, project.id),
            latest_sent_version=latest_sent,
        )
        content = domain_proposals.signed_content(
            project_reference=project.reference,
            project_name=project.name,
            version=proposal.version,
            currency=proposal.currency,
            rooms=rooms,
            terms=terms_of(proposal),
        )
        await _supersede_sent(uow, project.id, now)
        _freeze(proposal, content, sent_by=principal.subject, now=now)
        await open_waiting_item(
            uow,
            project=project,
            kind=WAITING_KIND,
            key=str(proposal.id),
            title=domain_proposals.waiting_title(proposal.version),
            link=domain_proposals.proposal_link(str(project.id)),
            since=now,
        )
        uow.publish(
            _sent_event(project, proposal),
            aggregate_type="proposal",
            aggregate_id=str(proposal.id),
            occurred_at=now,
        )
        view = await proposal_view(uow, principal, proposal)
        await uow.commit()
    return view


async def _supersede_sent(uow: UnitOfWork, project_id: uuid.UUID, now: datetime) -> None:
    """The version in front of the client steps aside (and off its waiting list)."""
    for earlier in await uow.session.scalars(
        select(Proposal)
        .where(Proposal.project_id == project_id, Proposal.status == ProposalStatus.SENT)
        .with_for_update()
    ):
        earlier.status = ProposalStatus.SUPERSEDED
        earlier.superseded_at = earlier.updated_at = now
        await resolve_waiting_item(uow, kind=WAITING_KIND, key=str(earlier.id), now=now)
    await uow.flush()  # one sent version per project (a unique index): supersede first


def _freeze(
    proposal: Proposal, content: domain_proposals.SignedContent, *, sent_by: str, now: datetime
) -> None:
    """The sent version keeps exactly what the client will sign, and its hash."""
    proposal.status = ProposalStatus.SENT
    proposal.consent_text = content.consent_text
    proposal.content_json = content.canonical_json()
    proposal.content_sha256 = content.sha256()
    proposal.subtotal_minor, proposal.tax_minor = content.subtotal_minor, content.tax_minor
    proposal.total_minor = content.total_minor
    proposal.sent_at = proposal.updated_at = now
    proposal.sent_by = sent_by


def _sent_event(project: Project, proposal: Proposal) -> events_pb2.ProposalSent:
    return events_pb2.ProposalSent(
        proposal_id=str(proposal.id),
        project_id=str(project.id),
        project_name=project.name,
        reference=project.reference,
        customer_id=str(project.customer_id),
        version=proposal.version,
        total=money(proposal.total_minor, proposal.currency),
    )


# -- reading -------------------------------------------------------------------------


async def list_proposals(
    *, sessions: Sessions, principal: Principal, project_id: str
) -> list[ProposalView]:
    """Newest version first, without rooms (GetProposal has them). Clients never see drafts."""
    async with UnitOfWork(sessions, principal.require_reader()) as uow:
        project = await load_project(uow, principal, project_id)
        proposals = await uow.session.scalars(
            select(Proposal)
            .where(Proposal.project_id == project.id, visible_proposals(principal))
            .order_by(Proposal.version.desc())
        )
        return [await proposal_view(uow, principal, p, rooms=False) for p in proposals]


async def get_proposal(
    *, sessions: Sessions, principal: Principal, proposal_id: str
) -> ProposalView:
    async with UnitOfWork(sessions, principal.require_reader()) as uow:
        _, proposal = await load_proposal(uow, principal, proposal_id)
        return await proposal_view(uow, principal, proposal)
