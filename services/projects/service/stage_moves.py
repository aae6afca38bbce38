"""Moving a project between stages: the move's history row, the dates it
fills in on the integrator's day, the note to the client, and the event."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime

from portal.projects.v1 import events_pb2
from sqlalchemy import select

from services.chassis.auth import Principal
from services.chassis.db import UnitOfWork
from services.chassis.idempotency import fingerprint, refuse_reuse
from services.chassis.validation import check_request_id
from services.projects import domain, domain_stages
from services.projects.models import Project, ProjectStage, StageChange
from services.projects.service.common import (
    EDITOR_ROLE,
    Sessions,
    Tenants,
    load_project,
    now_utc,
)
from services.projects.service.stages import dates_of, load_stage_rows, set_dates


async def change_project_stage(
    *,
    sessions: Sessions,
    tenants: Tenants,
    principal: Principal,
    request_id: str,
    project_id: str,
    stage: int,
    reason: str,
    client_note: str,
) -> Project:
    """Moves the project and dates the stages it leaves and enters on the
    integrator's day (identity's time zone, asked before the transaction opens,
    so the project's row lock never waits on it)."""
    tenant_id = principal.require_editor(EDITOR_ROLE)
    target = domain_stages.parse_stage(stage)
    request_id = check_request_id(request_id) or str(uuid.uuid4())
    time_zone = await tenants.time_zone(tenant_id)
    async with UnitOfWork(sessions, tenant_id) as uow:
        # Row lock: two moves at once are applied one after the other.
        project = await load_project(uow, principal, project_id, lock=True)
        digest = fingerprint(
            "ChangeProjectStage",
            project_id=project.id,
            stage=target,
            reason=reason,
            client_note=client_note,
        )
        done = await uow.session.execute(
            select(StageChange.id, StageChange.request_sha256).where(
                StageChange.request_id == request_id
            )
        )
        earlier = done.first()
        if earlier is not None:
            refuse_reuse(stored=earlier.request_sha256, given=digest)
            return project  # the same request again: it already happened once
        rows = await load_stage_rows(uow, project)
        now = now_utc()
        plan = domain_stages.plan_stage_change(
            domain.Stage(project.stage),
            target,
            reason=reason,
            client_note=client_note,
            dates={s: dates_of(row) for s, row in rows.items()},
            now=now,
            time_zone=time_zone,
        )
        _apply_stage_change(project, rows, plan, now=now)
        row = _stage_change_row(project, plan.move, request_id, principal.subject, now)
        row.request_sha256 = digest
        uow.session.add(row)
        uow.publish(
            _stage_changed_event(project, plan.move, principal.subject),
            aggregate_type="project",
            aggregate_id=str(project.id),
            occurred_at=now,
        )
        await uow.commit()
    return project


def _apply_stage_change(
    project: Project,
    rows: Mapping[domain.Stage, ProjectStage],
    plan: domain_stages.StageChangePlan,
    *,
    now: datetime,
) -> None:
    for changed_stage, dates in plan.dates.items():
        set_dates(rows[changed_stage], dates)
    if plan.note:
        rows[plan.move.to_stage].client_note = plan.note
        rows[plan.move.to_stage].note_updated_at = now
    project.stage = plan.move.to_stage
    project.stage_changed_at = now


def _stage_change_row(
    project: Project, move: domain.StageMove, request_id: str, changed_by: str, now: datetime
) -> StageChange:
    return StageChange(
        tenant_id=project.tenant_id,
        project_id=project.id,
        request_id=request_id,
        from_stage=move.from_stage,
        to_stage=move.to_stage,
        changed_by=changed_by,
        reason=move.reason,
        client_note=move.client_note,
        changed_at=now,
    )


def _stage_changed_event(
    project: Project, move: domain.StageMove, changed_by: str
) -> events_pb2.ProjectStageChanged:
    return events_pb2.ProjectStageChanged(
        project_id=str(project.id),
        reference=project.reference,
        name=project.name,
        customer_id=str(project.customer_id),
        from_stage=move.from_stage,
        to_stage=move.to_stage,
        changed_by=changed_by,
        reason=move.reason,
        client_note=move.client_note,
        visible_contact_ids=project.visible_contact_ids,
    )
