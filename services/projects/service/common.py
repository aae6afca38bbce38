"""What the projects use cases share: the clock, the editor role, and loading a
project the caller may see (anything else is NOT_FOUND, never a hint that it
exists)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.chassis.access import require_open_portal
from services.chassis.audience import visibility_of
from services.chassis.audience import visibility_rule as audience_rule
from services.chassis.auth import Principal
from services.chassis.db import UnitOfWork
from services.chassis.errors import NotFound
from services.chassis.validation import parse_uuid
from services.projects.domain import CustomerRecord
from services.projects.models import Project

Sessions = async_sessionmaker[AsyncSession]
EDITOR_ROLE = "project_manager"  # owner and admin pass too (chassis)


class Customers(Protocol):
    """Identity's customers, as projects asks for them (identity_client.py)."""

    async def customer(self, tenant_id: str, customer_id: str) -> CustomerRecord | None: ...


class Tenants(Protocol):
    """Identity's tenants: the integrator's time zone, whose day a move is dated."""

    async def time_zone(self, tenant_id: str) -> str: ...


def now_utc() -> datetime:
    return datetime.now(UTC)


def visibility_rule(kind: str) -> ColumnElement[bool]:
    """The suite's audience rule (`chassis.audience`: staff see the tenant's
    projects; a client their customer's projects that list them among
    visible_contact_ids, or list no one; staff viewing as the client what the
    customer's contacts together see) on our own project rows, with bound
    parameters: a hot read builds its statement once per rule and passes the
    parameters (`visibility_of`) each call."""
    return audience_rule(kind, customer=Project.customer_id, contacts=Project.visible_contact_ids)


def visible_projects(principal: Principal) -> ColumnElement[bool]:
    """`visibility_rule` with the caller's values in it."""
    kind, params = visibility_of(principal)
    rule = visibility_rule(kind)
    return rule.params(params) if params else rule


async def load_project(
    uow: UnitOfWork,
    principal: Principal,
    project_id: uuid.UUID | str,
    *,
    lock: bool = False,
    field: str = "project_id",
) -> Project:
    """The project if the caller may see it, else NotFound (whether it exists or not).

    Checks the client's portal is open first, so every read by a client does.
    """
    pid = project_id if isinstance(project_id, uuid.UUID) else parse_uuid(project_id, field=field)
    await require_open_portal(uow, principal)
    query = select(Project).where(Project.id == pid, visible_projects(principal))
    if lock:
        query = query.with_for_update()
    project = await uow.session.scalar(query)
    if project is None:
        raise NotFound("no such project", field=field)
    return project


def client_view(principal: Principal) -> bool:
    """Whether the caller gets the client's view (visible rooms and lines only,
    sent proposals only, no internal reasons)."""
    return principal.is_client
