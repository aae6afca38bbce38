"""What the proposal use cases share: loading a proposal the caller may see,
the snapshot of rooms and lines, and the view each caller gets.

Lock order, everywhere: the project row, then the proposal row. So two
approvers clicking at once, or a send racing an accept, run one after the other.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from portal.common.v1 import common_pb2
from sqlalchemy import ColumnElement, select, true

from services.chassis.auth import Principal
from services.chassis.db import UnitOfWork
from services.chassis.errors import NotFound
from services.chassis.validation import parse_uuid
from services.projects import domain_proposals
from services.projects.domain_proposals import (
    ClientRoom,
    ProposalStatus,
    SignedContent,
    SnapshotLine,
    SnapshotRoom,
    Terms,
)
from services.projects.models import (
    ProductLine,
    Project,
    Proposal,
    ProposalLine,
    ProposalRoom,
    ProposalSignature,
    Room,
)
from services.projects.service.common import client_view, load_project

WAITING_KIND = "proposal_to_accept"


@dataclass(frozen=True)
class ProposalView:
    """A proposal as this caller may see it. Staff get every room and line
    itemised; a client gets the signed content (hidden lines summed into other
    items). `rooms` is empty in lists."""

    proposal: Proposal
    rooms: tuple[ClientRoom, ...]
    signature: ProposalSignature | None


# -- loading -------------------------------------------------------------------------


async def snapshot_of(uow: UnitOfWork, proposal_id: uuid.UUID) -> list[SnapshotRoom]:
    rooms = list(
        await uow.session.scalars(
            select(ProposalRoom)
            .where(ProposalRoom.proposal_id == proposal_id)
            .order_by(ProposalRoom.position)
        )
    )
    lines: dict[uuid.UUID, list[SnapshotLine]] = defaultdict(list)
    for line in await uow.session.scalars(
        select(ProposalLine)
        .where(ProposalLine.proposal_id == proposal_id)
        .order_by(ProposalLine.position)
    ):
        lines[line.proposal_room_id].append(
            SnapshotLine(
                manufacturer=line.manufacturer,
                model=line.model,
                description=line.description,
                quantity=line.quantity,
                unit_price_minor=line.unit_price_minor,
                client_visible=line.client_visible,
            )
        )
    return [SnapshotRoom(r.name, r.client_visible, tuple(lines[r.id])) for r in rooms]


def as_snapshot(rows: Sequence[tuple[Room, Sequence[ProductLine]]]) -> list[SnapshotRoom]:
    return [
        SnapshotRoom(
            room.name,
            room.client_visible,
            tuple(
                SnapshotLine(
                    manufacturer=line.manufacturer,
                    model=line.model,
                    description=line.description,
                    quantity=line.quantity,
                    unit_price_minor=line.unit_price_minor,
                    client_visible=line.client_visible,
                )
                for line in lines
            ),
        )
        for room, lines in rows
    ]


async def take_snapshot(
    uow: UnitOfWork,
    project: Project,
    proposal: Proposal,
    rows: Sequence[tuple[Room, Sequence[ProductLine]]],
) -> None:
    """Copies the project's rooms and lines, all of them, visibility included,
    into the proposal (a draft: the database refuses otherwise)."""
    copies = [
        ProposalRoom(
            id=uuid.uuid4(),
            tenant_id=project.tenant_id,
            proposal_id=proposal.id,
            source_room_id=room.id,
            position=place,
            name=room.name,
            client_visible=room.client_visible,
        )
        for place, (room, _) in enumerate(rows, start=1)
    ]
    uow.session.add_all(copies)
    await uow.flush()  # rooms before their lines (no ORM relationship orders them)
    for copy, (_, lines) in zip(copies, rows, strict=True):
        uow.session.add_all(
            ProposalLine(
                tenant_id=project.tenant_id,
                proposal_id=proposal.id,
                proposal_room_id=copy.id,
                source_line_id=line.id,
                position=place,
                manufacturer=line.manufacturer,
                model=line.model,
                description=line.description,
                quantity=line.quantity,
                unit_price_minor=line.unit_price_minor,
                client_visible=line.client_visible,
            )
            for place, line in enumerate(lines, start=1)
        )
    await uow.flush()


async def signature_of(uow: UnitOfWork, proposal: Proposal) -> ProposalSignature | None:
    if proposal.status != ProposalStatus.ACCEPTED:
        return None
    return await uow.session.scalar(
        select(ProposalSignature).where(ProposalSignature.proposal_id == proposal.id)
    )


async def proposal_view(
    uow: UnitOfWork, principal: Principal, proposal: Proposal, *, rooms: bool = True
) -> ProposalView:
    signature = await signature_of(uow, proposal)
    if not rooms:
        return ProposalView(proposal, (), signature)
    if client_view(principal):
        # Exactly what was hashed: the client reads the frozen content itself.
        content = SignedContent.from_json(proposal.content_json or "")
        return ProposalView(proposal, content.rooms, signature)
    staff_rooms = tuple(
        ClientRoom(
            name=room.name,
            lines=tuple(
                domain_proposals.ClientLine(
                    line.label,
                    line.quantity,
                    line.unit_price_minor,
                    line.line_total_minor,
                    client_visible=line.client_visible,
                )
                for line in room.lines
            ),
            other_items_minor=0,
            total_minor=room.total_minor,
            client_visible=room.client_visible,
        )
        for room in await snapshot_of(uow, proposal.id)
    )
    return ProposalView(proposal, staff_rooms, signature)


def visible_proposals(principal: Principal) -> ColumnElement[bool]:
    if client_view(principal):
        return Proposal.status.in_([int(s) for s in domain_proposals.CLIENT_STATUSES])
    return true()


async def locate_proposal(uow: UnitOfWork, principal: Principal, proposal_id: str) -> uuid.UUID:
    """The project of a proposal the caller may see (its portal open), or NotFound."""
    pid = parse_uuid(proposal_id, field="proposal_id")
    project_id = await uow.session.scalar(
        select(Proposal.project_id).where(Proposal.id == pid, visible_proposals(principal))
    )
    if project_id is None:
        raise NotFound("no such proposal", field="proposal_id")
    return project_id


async def load_proposal(
    uow: UnitOfWork, principal: Principal, proposal_id: str, *, lock: bool = False
) -> tuple[Project, Proposal]:
    project_id = await locate_proposal(uow, principal, proposal_id)
    # A client's project visibility (customer, contacts, open portal) is checked here.
    project = await load_project(uow, principal, project_id, lock=lock, field="proposal_id")
    query = select(Proposal).where(
        Proposal.id == uuid.UUID(proposal_id), visible_proposals(principal)
    )
    if lock:
        query = query.with_for_update()
    proposal = await uow.session.scalar(query)
    if proposal is None:
        raise NotFound("no such proposal", field="proposal_id")
    return project, proposal


async def accepted_version(uow: UnitOfWork, project_id: uuid.UUID) -> int | None:
    return await uow.session.scalar(
        select(Proposal.version).where(
            Proposal.project_id == project_id, Proposal.status == ProposalStatus.ACCEPTED
        )
    )


def terms_of(proposal: Proposal) -> Terms:
    return Terms(
        title=proposal.title,
        introduction=proposal.introduction,
        labour_minor=proposal.labour_minor,
        discount_minor=proposal.discount_minor,
        tax_rate_bps=proposal.tax_rate_bps,
    )


def apply_terms(proposal: Proposal, terms: Terms, rooms: Sequence[SnapshotRoom]) -> None:
    totals = domain_proposals.proposal_totals(rooms, terms)  # refuses a discount too large
    proposal.title, proposal.introduction = terms.title, terms.introduction
    proposal.labour_minor, proposal.discount_minor = terms.labour_minor, terms.discount_minor
    proposal.tax_rate_bps = terms.tax_rate_bps
    proposal.subtotal_minor = totals.subtotal_minor
    proposal.tax_minor, proposal.total_minor = totals.tax_minor, totals.total_minor


def money(amount_minor: int, currency: str) -> common_pb2.Money:
    return common_pb2.Money(currency=currency, amount_minor=amount_minor)
