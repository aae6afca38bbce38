"""Other services' events -> bookings' copies: technicians from identity's
staff users, projects' facts (stage, service contract) that decide who may
book. Each is state-guarded by the event's time: newest wins, so a late or
repeated event changes nothing."""

from __future__ import annotations

import uuid
from datetime import datetime

from portal.identity.v1 import events_pb2 as identity_events
from portal.projects.v1 import events_pb2 as project_events
from portal.projects.v1.projects_pb2 import Stage
from sqlalchemy import select

from services.bookings.domain_bookings import ACTIVE
from services.bookings.models import Assignment, ProjectFact, Technician, WorkOrder
from services.bookings.service.work_orders import flag_conflict
from services.chassis import enums
from services.chassis.access import supersedes
from services.chassis.audience import on_project_audience
from services.chassis.db import UnitOfWork
from services.chassis.events import Event

TECHNICIAN_ROLE = "technician"


async def on_staff_user_changed(
    uow: UnitOfWork, event: Event[identity_events.StaffUserChanged]
) -> None:
    """A staff user with the technician role is one of ours; one who lost it
    keeps their history, and their visits still to come are flagged."""
    p = event.payload
    sid = uuid.UUID(p.staff_user_id)
    tech = await uow.session.get(Technician, sid, with_for_update=True)
    is_technician = TECHNICIAN_ROLE in p.roles
    if tech is None:
        if not is_technician:
            return
        tech = Technician(
            staff_user_id=sid,
            tenant_id=uuid.UUID(event.tenant_id),
            active=False,
            skills=[],
            working_hours=[],
        )
        uow.session.add(tech)
    elif not supersedes(event.occurred_at, tech.changed_at):
        return
    was_active = bool(tech.active)
    tech.full_name, tech.email = p.full_name, p.email
    tech.active, tech.changed_at = is_technician, event.occurred_at
    await uow.flush()
    if was_active and not is_technician:
        await _flag_future(uow, tech, event.occurred_at, "no longer a technician")


async def _flag_future(uow: UnitOfWork, tech: Technician, now: datetime, reason: str) -> None:
    orders = await uow.session.scalars(
        select(WorkOrder)
        .join(Assignment, Assignment.work_order_id == WorkOrder.id)
        .where(
            Assignment.technician_id == tech.staff_user_id,
            Assignment.active.is_(True),
            WorkOrder.ends_at > now,
            WorkOrder.status.in_(list(ACTIVE)),
        )
    )
    for order in orders:
        flag_conflict(uow, order, str(tech.staff_user_id), f"{tech.full_name} is {reason}")


async def _fact(uow: UnitOfWork, tenant_id: str, project_id: str, customer_id: str) -> ProjectFact:
    pid = uuid.UUID(project_id)
    row = await uow.session.get(ProjectFact, pid, with_for_update=True)
    if row is None:
        row = ProjectFact(
            project_id=pid,
            tenant_id=uuid.UUID(tenant_id),
            customer_id=uuid.UUID(customer_id),
            name="",
            reference="",
            stage="",
            service_contract=False,
        )
        uow.session.add(row)
    return row


async def on_project_created(uow: UnitOfWork, event: Event[project_events.ProjectCreated]) -> None:
    p = event.payload
    row = await _fact(uow, event.tenant_id, p.project_id, p.customer_id)
    row.name, row.reference = p.name, p.reference
    if row.stage_at is None:
        row.stage, row.stage_at = "design", event.occurred_at


async def on_stage_changed(
    uow: UnitOfWork, event: Event[project_events.ProjectStageChanged]
) -> None:
    """The stage (past handover may book) and, carried with it, the audience."""
    p = event.payload
    await on_project_audience(uow, event)
    row = await _fact(uow, event.tenant_id, p.project_id, p.customer_id)
    row.name, row.reference = p.name or row.name, p.reference or row.reference
    if supersedes(event.occurred_at, row.stage_at):
        row.stage = enums.short_name(Stage, p.to_stage, unknown="")
        row.stage_at = event.occurred_at


async def on_service_contract_changed(
    uow: UnitOfWork, event: Event[project_events.ProjectServiceContractChanged]
) -> None:
    p = event.payload
    row = await _fact(uow, event.tenant_id, p.project_id, p.customer_id)
    if supersedes(event.occurred_at, row.contract_at):
        row.service_contract, row.contract_at = p.service_contract, event.occurred_at
