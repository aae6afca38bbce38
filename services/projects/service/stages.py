"""Stage plans (dates and the client's note) and the history of stage moves."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from services.chassis.auth import Principal
from services.chassis.db import UnitOfWork
from services.chassis.errors import InvalidArgument
from services.projects import domain_stages
from services.projects.domain import Stage
from services.projects.domain_stages import StageDates
from services.projects.models import Project, ProjectStage, StageChange
from services.projects.service.common import (
    EDITOR_ROLE,
    Sessions,
    client_view,
    load_project,
    now_utc,
)


@dataclass(frozen=True)
class StageRow:
    """A stage as the hot reads return it (plain values, no ORM instance)."""

    stage: int
    planned_start: date | None
    planned_finish: date | None
    actual_start: date | None
    actual_finish: date | None
    client_note: str
    note_updated_at: datetime | None

    @classmethod
    def empty(cls, stage: Stage) -> StageRow:
        """A stage whose row was never made: no plan, no note."""
        return cls(int(stage), None, None, None, None, "", None)

    @property
    def dates(self) -> StageDates:
        return dates_of(self)


def dates_of(row: ProjectStage | StageRow) -> StageDates:
    return StageDates(row.planned_start, row.planned_finish, row.actual_start, row.actual_finish)


def set_dates(row: ProjectStage, dates: StageDates) -> None:
    row.planned_start, row.planned_finish = dates.planned_start, dates.planned_finish
    row.actual_start, row.actual_finish = dates.actual_start, dates.actual_finish


async def load_stage_rows(uow: UnitOfWork, project: Project) -> dict[Stage, ProjectStage]:
    """The project's five stage rows, in order; any missing one is made (a
    project is created with all five, so this only repairs)."""
    rows = {
        Stage(row.stage): row
        for row in await uow.session.scalars(
            select(ProjectStage).where(ProjectStage.project_id == project.id)
        )
    }
    for stage in Stage:
        if stage not in rows:
            rows[stage] = ProjectStage(
                tenant_id=project.tenant_id, project_id=project.id, stage=stage, client_note=""
            )
            uow.session.add(rows[stage])
    return dict(sorted(rows.items()))


def parse_stage(value: int) -> Stage:
    try:
        return Stage(value)
    except ValueError:
        raise InvalidArgument(
            "stage must be one of design, procurement, install, commissioning, handover",
            field="stage",
        ) from None


async def update_stage(
    *,
    sessions: Sessions,
    principal: Principal,
    project_id: str,
    stage: int,
    changes: Mapping[str, str],
    note_written_at: datetime | None = None,
) -> ProjectStage:
    """Changes only the dates and note in `changes` (from the request's field
    mask); a changed note is dated `note_written_at` (default: now)."""
    tenant_id = principal.require_editor(EDITOR_ROLE)
    which = parse_stage(stage)
    written_at = domain_stages.note_written_at(note_written_at, now_utc())
    async with UnitOfWork(sessions, tenant_id) as uow:
        # The project row lock orders this with stage moves, which write dates too.
        project = await load_project(uow, principal, project_id, lock=True)
        row = (await load_stage_rows(uow, project))[which]
        dates, note = domain_stages.change_stage_plan(dates_of(row), row.client_note, changes)
        set_dates(row, dates)
        if note != row.client_note:
            row.client_note = note
            row.note_updated_at = written_at
        await uow.commit()
    return row


@dataclass(frozen=True)
class HistoryEntry:
    from_stage: int
    to_stage: int
    changed_by: str
    reason: str
    client_note: str
    changed_at: datetime


@dataclass(frozen=True)
class NoteRow:
    """A stage move as the hot reads return it (plain values, no ORM instance)."""

    from_stage: int
    to_stage: int
    changed_by: str
    reason: str
    client_note: str
    changed_at: datetime


def history_entry(change: StageChange | NoteRow, *, for_client: bool) -> HistoryEntry:
    """A client reads the note meant for them, never the internal reason or who moved it."""
    return HistoryEntry(
        from_stage=change.from_stage,
        to_stage=change.to_stage,
        changed_by="" if for_client else change.changed_by,
        reason="" if for_client else change.reason,
        client_note=change.client_note,
        changed_at=change.changed_at,
    )


def board_notes(
    moves: Sequence[NoteRow], stages: Iterable[StageRow], *, for_client: bool, limit: int
) -> list[HistoryEntry]:
    """The board's "Latest from the team": the notes stage moves carried and the
    note staff wrote on a stage (UpdateStage), which is news to the client too.
    A stage's own note reads as an entry from and to that stage, by nobody named."""
    from_moves = [history_entry(m, for_client=for_client) for m in moves]
    from_stages = [
        HistoryEntry(s.stage, s.stage, "", "", s.client_note, s.note_updated_at)
        for s in stages
        if s.client_note and s.note_updated_at is not None  # undated: the track shows it
    ]
    return domain_stages.latest_news(from_moves, from_stages, limit=limit)


async def list_stage_history(
    *, sessions: Sessions, principal: Principal, project_id: str
) -> list[HistoryEntry]:
    """Every move, newest first."""
    async with UnitOfWork(sessions, principal.require_reader()) as uow:
        project = await load_project(uow, principal, project_id)
        changes = await uow.session.scalars(
            select(StageChange)
            .where(StageChange.project_id == project.id)
            .order_by(StageChange.changed_at.desc(), StageChange.id)
        )
        return [history_entry(c, for_client=client_view(principal)) for c in changes]
