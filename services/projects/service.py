"""Projects use cases: one transaction each, through the unit of work."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime
from typing import Any

from portal.identity.v1 import events_pb2 as identity_events
from portal.projects.v1 import events_pb2
from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.chassis.auth import Principal
from services.chassis.db import UnitOfWork, next_number
from services.chassis.errors import InvalidArgument, NotFound, PermissionDenied
from services.chassis.events import Event
from services.chassis.validation import parse_uuid, require_text
from services.projects import domain
from services.projects.models import CustomerAccess, Project, StageChange

Sessions = async_sessionmaker[AsyncSession]
MAX_PAGE_SIZE = 100
STAGE_CHANGED = "projects.project.stage_changed"
PROJECT_CREATED = "projects.project.created"


def _visible(principal: Principal):
    """A client sees only their customer's projects; staff see the tenant's."""
    if principal.is_client:
        return Project.customer_id == parse_uuid(principal.customer_id or "", field="customer_id")
    principal.require_staff()
    return True


def _encode_cursor(project: Project) -> str:
    raw = f"{project.created_at.isoformat()}|{project.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _decode_cursor(token: str) -> tuple[datetime, uuid.UUID]:
    try:
        created, pid = base64.urlsafe_b64decode(token.encode()).decode().split("|")
        return datetime.fromisoformat(created), uuid.UUID(pid)
    except Exception:
        raise InvalidArgument("the page token is not valid", field="page_token") from None


async def _require_open_portal(uow: UnitOfWork, principal: Principal) -> None:
    if not principal.is_client:
        return
    state = await uow.session.scalar(
        select(CustomerAccess.state).where(
            CustomerAccess.customer_id
            == parse_uuid(principal.customer_id or "", field="customer_id")
        )
    )
    if not domain.portal_open(state):
        raise PermissionDenied("access to this portal has been closed")


async def list_projects(
    *, sessions: Sessions, principal: Principal, page_size: int, page_token: str
) -> tuple[list[Project], str]:
    size = min(page_size or 50, MAX_PAGE_SIZE)
    if size < 0:
        raise InvalidArgument("page size must be positive", field="page_size")
    query = (
        select(Project)
        .where(_visible(principal))
        .order_by(Project.created_at.desc(), Project.id.desc())
        .limit(size + 1)
    )
    if page_token:
        created, pid = _decode_cursor(page_token)
        query = query.where(
            or_(Project.created_at < created, and_(Project.created_at == created, Project.id < pid))
        )
    async with UnitOfWork(sessions, principal.require_tenant()) as uow:
        await _require_open_portal(uow, principal)
        rows = list(await uow.session.scalars(query))
    next_token = _encode_cursor(rows[size - 1]) if len(rows) > size else ""
    return rows[:size], next_token


async def get_project(*, sessions: Sessions, principal: Principal, project_id: str) -> Project:
    pid = parse_uuid(project_id, field="project_id")
    async with UnitOfWork(sessions, principal.require_tenant()) as uow:
        await _require_open_portal(uow, principal)
        project = await uow.session.scalar(
            select(Project).where(Project.id == pid, _visible(principal))
        )
    if project is None:
        raise NotFound("no such project")
    return project


async def create_project(
    *,
    sessions: Sessions,
    principal: Principal,
    request_id: str,
    name: str,
    customer_id: str,
    site_address: str,
) -> Project:
    principal.require_staff("project_manager")
    tenant_id = principal.require_tenant()
    request_id = request_id or str(uuid.uuid4())
    async with UnitOfWork(sessions, tenant_id) as uow:
        existing = await uow.session.scalar(select(Project).where(Project.request_id == request_id))
        if existing is not None:
            return existing  # a retried create answers with what it made
        number = await next_number(uow.session, tenant_id, "project")
        project = Project(
            tenant_id=uuid.UUID(tenant_id),
            request_id=request_id,
            reference=domain.project_reference(number),
            name=require_text(name, field="name"),
            customer_id=parse_uuid(customer_id, field="customer_id"),
            site_address=site_address.strip()[:500],
            stage=domain.Stage.DESIGN,
        )
        uow.session.add(project)
        await uow.flush()
        uow.publish(
            PROJECT_CREATED,
            events_pb2.ProjectCreated(
                project_id=str(project.id),
                reference=project.reference,
                name=project.name,
                customer_id=str(project.customer_id),
            ),
            aggregate_type="project",
            aggregate_id=str(project.id),
        )
        await uow.commit()
    return project


async def change_project_stage(
    *,
    sessions: Sessions,
    principal: Principal,
    request_id: str,
    project_id: str,
    stage: int,
    reason: str,
    client_note: str,
) -> Project:
    principal.require_staff("project_manager")
    try:
        target = domain.Stage(stage)
    except ValueError:
        raise InvalidArgument(
            "stage must be one of design, procurement, install, commissioning, handover",
            field="stage",
        ) from None
    pid = parse_uuid(project_id, field="project_id")
    request_id = request_id or str(uuid.uuid4())
    async with UnitOfWork(sessions, principal.require_tenant()) as uow:
        # Row lock: two moves at once are applied one after the other.
        project = await uow.session.scalar(
            select(Project).where(Project.id == pid).with_for_update()
        )
        if project is None:
            raise NotFound("no such project", field="project_id")
        done = await uow.session.scalar(
            select(StageChange).where(StageChange.request_id == request_id)
        )
        if done is not None:
            return project  # the same request again: it already happened once
        move = domain.plan_stage_move(
            domain.Stage(project.stage), target, reason=reason, client_note=client_note
        )
        now = datetime.now(UTC)
        project.stage = move.to_stage
        project.stage_changed_at = now
        uow.session.add(
            StageChange(
                tenant_id=project.tenant_id,
                project_id=project.id,
                request_id=request_id,
                from_stage=move.from_stage,
                to_stage=move.to_stage,
                changed_by=principal.subject,
                reason=move.reason,
                client_note=move.client_note,
                changed_at=now,
            )
        )
        uow.publish(
            STAGE_CHANGED,
            events_pb2.ProjectStageChanged(
                project_id=str(project.id),
                reference=project.reference,
                name=project.name,
                customer_id=str(project.customer_id),
                from_stage=move.from_stage,
                to_stage=move.to_stage,
                changed_by=principal.subject,
                reason=move.reason,
                client_note=move.client_note,
            ),
            aggregate_type="project",
            aggregate_id=str(project.id),
            occurred_at=now,
        )
        await uow.commit()
    return project


async def on_customer_access_changed(
    uow: UnitOfWork, event: Event[identity_events.CustomerAccessChanged]
) -> None:
    await _record_access(uow, event, event.payload.customer_id, event.payload.to_state)


async def on_customer_purged(uow: UnitOfWork, event: Event[identity_events.CustomerPurged]) -> None:
    await _record_access(uow, event, event.payload.customer_id, domain.ACCESS_PURGED)


async def _record_access(uow: UnitOfWork, event: Event[Any], customer_id: str, state: int) -> None:
    cid = uuid.UUID(customer_id)
    row = await uow.session.get(CustomerAccess, cid, with_for_update=True)
    if row is None:
        uow.session.add(
            CustomerAccess(
                customer_id=cid,
                tenant_id=uuid.UUID(event.tenant_id),
                state=state,
                changed_at=event.occurred_at,
            )
        )
    elif domain.newer(event.occurred_at, row.changed_at):
        row.state, row.changed_at = state, event.occurred_at
