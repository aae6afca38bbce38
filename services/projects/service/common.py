"""What the projects use cases share: the clock, the editor role, and loading a
project the caller may see (anything else is NOT_FOUND, never a hint that it
exists)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import ColumnElement, String, Uuid, and_, bindparam, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.chassis.access import require_open_portal
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


def now_utc() -> datetime:
    return datetime.now(UTC)


def customer_of(principal: Principal) -> uuid.UUID:
    return parse_uuid(principal.customer_id or "", field="customer_id")


def visibility_of(principal: Principal) -> tuple[str, dict[str, Any]]:
    """Which visibility rule applies to the caller, and its parameters.

    Staff see the tenant's projects ("staff"). A client sees their customer's
    projects that list them among visible_contact_ids, or list no one
    ("contact"). Staff viewing the portal as the client (always read-only)
    carry their own staff id as subject, never in the list: they see what the
    customer's contacts together see ("customer").
    """
    if not principal.is_client:
        principal.require_staff()
        return "staff", {}
    params: dict[str, Any] = {"visible_customer": customer_of(principal)}
    if principal.viewing_as and principal.read_only:
        return "customer", params
    return "contact", {**params, "visible_subject": principal.subject}


def visibility_rule(kind: str) -> ColumnElement[bool]:
    """The rule named by `visibility_of`, with bound parameters: a hot read
    builds its statement once per rule and passes the parameters each call."""
    if kind == "staff":
        return true()
    mine = Project.customer_id == bindparam("visible_customer", type_=Uuid)
    if kind == "customer":
        return mine
    return and_(
        mine,
        or_(
            func.cardinality(Project.visible_contact_ids) == 0,
            Project.visible_contact_ids.any(bindparam("visible_subject", type_=String)),
        ),
    )


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
