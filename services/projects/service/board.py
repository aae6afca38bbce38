"""The status board: the whole status screen in one call."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from services.chassis.auth import Principal
from services.chassis.db import UnitOfWork
from services.projects import domain_money, domain_stages
from services.projects.domain_proposals import ProposalStatus
from services.projects.models import Project, ProjectStage, Proposal, StageChange, WaitingItem
from services.projects.service.common import Sessions, client_view, load_project
from services.projects.service.stages import (
    HistoryEntry,
    dates_of,
    history_entry,
    load_stage_rows,
)

RECENT_NOTES = 5


@dataclass(frozen=True)
class Budget:
    currency: str
    accepted_proposal_minor: int
    approved_variations_minor: int
    contract_value_minor: int
    accepted_proposal_id: str  # empty until a proposal is accepted


@dataclass(frozen=True)
class StatusBoard:
    project: Project
    stages: list[ProjectStage]  # all five, in order
    forecast_handover: date | None
    recent_notes: list[HistoryEntry]  # newest first
    waiting_on: list[WaitingItem]  # oldest first
    budget: Budget


async def get_status_board(
    *, sessions: Sessions, principal: Principal, project_id: str
) -> StatusBoard:
    async with UnitOfWork(sessions, principal.require_reader()) as uow:
        project = await load_project(uow, principal, project_id)
        rows = await load_stage_rows(uow, project)
        notes = await uow.session.scalars(
            select(StageChange)
            .where(StageChange.project_id == project.id, StageChange.client_note != "")
            .order_by(StageChange.changed_at.desc(), StageChange.id)
            .limit(RECENT_NOTES)
        )
        recent = [history_entry(n, for_client=client_view(principal)) for n in notes]
        waiting = list(
            await uow.session.scalars(
                select(WaitingItem)
                .where(WaitingItem.project_id == project.id, WaitingItem.resolved_at.is_(None))
                .order_by(WaitingItem.since, WaitingItem.id)
            )
        )
        accepted = (
            await uow.session.execute(
                select(Proposal.id, Proposal.total_minor).where(
                    Proposal.project_id == project.id,
                    Proposal.status == ProposalStatus.ACCEPTED,
                )
            )
        ).first()
    accepted_minor = accepted.total_minor if accepted else 0
    return StatusBoard(
        project=project,
        stages=list(rows.values()),
        forecast_handover=domain_stages.forecast_handover(
            {stage: dates_of(row) for stage, row in rows.items()}
        ),
        recent_notes=recent,
        waiting_on=waiting,
        budget=Budget(
            currency=project.currency,
            accepted_proposal_minor=accepted_minor,
            approved_variations_minor=project.approved_variations_minor,
            contract_value_minor=domain_money.contract_value(
                accepted_minor, project.approved_variations_minor
            ),
            accepted_proposal_id=str(accepted.id) if accepted else "",
        ),
    )
