"""What changeorders asks projects: where a project stands (its customer,
audience, stage dates, accepted proposal) and the accepted proposal itself,
every room and line with its visibility. Projects is asked as this service,
so it answers with staff's view (nothing folded into "other items")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import grpc
from portal.projects.v1 import projects_pb2, projects_pb2_grpc

from services.changeorders.domain_contract import (
    Contract,
    Line,
    Room,
    proposal_line_key,
    proposal_room_key,
)
from services.changeorders.domain_schedule import StageDates
from services.chassis.auth import Principal
from services.chassis.errors import InvalidTransition, NotFound, Unavailable
from services.chassis.runtime import Remote


@dataclass(frozen=True)
class ProjectFacts:
    project_id: str
    customer_id: str
    reference: str
    name: str
    visible_contact_ids: tuple[str, ...]
    stages: tuple[StageDates, ...]
    accepted_proposal_id: str


@dataclass(frozen=True)
class SignedBaseline:
    proposal_id: str
    contract: Contract
    total_minor: int  # as projects priced it; ours must agree


def _day(value: str) -> date | None:
    return date.fromisoformat(value) if value else None


def facts_of(board: projects_pb2.GetStatusBoardResponse) -> ProjectFacts:
    p = board.project
    return ProjectFacts(
        project_id=p.id,
        customer_id=p.customer_id,
        reference=p.reference,
        name=p.name,
        visible_contact_ids=tuple(p.visible_contact_ids),
        stages=tuple(
            StageDates(
                projects_pb2.Stage.Name(s.stage).removeprefix("STAGE_").lower(),
                _day(s.planned_start),
                _day(s.planned_finish),
            )
            for s in board.stages
        ),
        accepted_proposal_id=board.budget.accepted_proposal_id,
    )


def baseline_of(proposal: projects_pb2.Proposal) -> SignedBaseline:
    """The accepted proposal as a contract: every room and line in its order,
    keyed by position (the accepted version never changes, so nor do keys)."""
    if proposal.status != projects_pb2.PROPOSAL_STATUS_ACCEPTED:
        raise InvalidTransition(
            "change orders start once the project's proposal has been accepted",
            field="project_id",
        )
    rooms = tuple(
        Room(
            key=proposal_room_key(r),
            name=room.name,
            client_visible=room.client_visible,
            lines=tuple(
                Line(
                    key=proposal_line_key(r, i),
                    description=line.description,
                    quantity=line.quantity,
                    unit_price_minor=line.unit_price.amount_minor,
                    client_visible=line.client_visible,
                )
                for i, line in enumerate(room.lines)
            ),
        )
        for r, room in enumerate(proposal.rooms)
    )
    contract = Contract(
        currency=proposal.total.currency,
        tax_rate_bps=proposal.tax_rate_bps,
        labour_minor=proposal.labour.amount_minor,
        discount_minor=proposal.discount.amount_minor,
        rooms=rooms,
    )
    return SignedBaseline(proposal.id, contract, proposal.total.amount_minor)


class ProjectsClient:
    def __init__(self, projects: Remote) -> None:
        self._stub = projects_pb2_grpc.ProjectsServiceStub(projects.channel)
        self._call = projects.call

    async def _ask(self, method: Any, request: Any, tenant_id: str) -> Any:
        me = Principal(kind="service", subject="changeorders", tenant_id=tenant_id)
        try:
            return await self._call(method, request, me)
        except grpc.aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.NOT_FOUND:
                raise NotFound("no such project", field="project_id") from None
            raise Unavailable(
                "projects did not answer, so the contract cannot be read; try again shortly"
            ) from None

    async def project(self, tenant_id: str, project_id: str) -> ProjectFacts:
        request = projects_pb2.GetStatusBoardRequest(project_id=project_id)
        return facts_of(await self._ask(self._stub.GetStatusBoard, request, tenant_id))

    async def signed_baseline(self, tenant_id: str, proposal_id: str) -> SignedBaseline:
        request = projects_pb2.GetProposalRequest(proposal_id=proposal_id)
        answer = await self._ask(self._stub.GetProposal, request, tenant_id)
        return baseline_of(answer.proposal)
