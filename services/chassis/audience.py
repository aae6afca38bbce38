"""Project audience, once for the suite: which contacts of a customer a
project is for. Projects owns the list (`visible_contact_ids`; empty = every
contact of the customer); every service that shows a client a project's
records, or mails them about it, keeps its own copy from projects' events and
applies the same rule projects applies to the project itself.

A service declares it in three places:

- its migration calls `create_project_audience_table()` (services/chassis/migrations.py);
- its handlers list includes `*audience_subscriptions()` (pass `on_created=`
  to do more with `projects.project.created` in the same transaction);
- a client read calls `await require_project_visible(uow, principal, project_id)`
  (NOT_FOUND, worded like an id that never existed), a list query adds
  `project_visible(principal, Table.c.project_id)`, and mail about a project
  goes to the contacts `audience_of(...)` / `lists_contact` admit.

The rule (`visibility_of` + `visibility_rule`, also what projects' own queries
use): staff and services see every project of the tenant; a client contact
sees their customer's projects that list them or list no one; staff viewing
the portal as the client (a read-only principal marked `viewing_as`, carrying
their own staff id) see what the customer's contacts together see.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from portal.projects.v1 import events_pb2 as project_events
from sqlalchemy import (
    Column,
    ColumnElement,
    DateTime,
    MetaData,
    Select,
    String,
    Table,
    Uuid,
    and_,
    bindparam,
    exists,
    func,
    or_,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY, insert

from services.chassis.access import supersedes
from services.chassis.auth import Principal
from services.chassis.consumer import Handler, Subscription
from services.chassis.db import NAMING, ReadUnit, UnitOfWork
from services.chassis.errors import NotFound
from services.chassis.events import Event
from services.chassis.validation import parse_uuid

# Its own metadata, like customer_access: only the services that keep a copy create it.
audience_metadata = MetaData(naming_convention=NAMING)

project_audience = Table(
    "project_audience",
    audience_metadata,
    Column("project_id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, nullable=False, index=True),
    Column("customer_id", Uuid, nullable=False),
    Column("visible_contact_ids", ARRAY(String(100)), nullable=False, server_default="{}"),
    # The event's time: an older list arriving late must not undo a newer one.
    Column("changed_at", DateTime(timezone=True), nullable=False),
)


# -- the rule ---------------------------------------------------------------------------------


def lists_contact(visible_contact_ids: Sequence[str], contact_id: str) -> bool:
    """A project that lists no one is for every contact of its customer."""
    return not visible_contact_ids or contact_id in visible_contact_ids


def visibility_of(principal: Principal) -> tuple[str, dict[str, Any]]:
    """Which rule applies to the caller ("staff", "contact" or "customer"), and
    its parameters. A hot read builds its statement once per rule and passes
    the parameters each call."""
    if not principal.is_client:
        principal.require_staff()
        return "staff", {}
    params: dict[str, Any] = {
        "visible_customer": parse_uuid(principal.customer_id or "", field="customer_id")
    }
    if principal.viewing_as and principal.read_only:
        return "customer", params
    return "contact", {**params, "visible_subject": principal.subject}


def visibility_rule(kind: str, *, customer: Any, contacts: Any) -> ColumnElement[bool]:
    """The rule named by `visibility_of` on the columns of any table holding
    a project's customer (a UUID) and its `visible_contact_ids` (an array of
    text): SQL's `lists_contact`, with bound parameters."""
    if kind == "staff":
        return true()
    mine = customer == bindparam("visible_customer", type_=Uuid)
    if kind == "customer":
        return mine
    return and_(
        mine,
        or_(
            func.cardinality(contacts) == 0,
            contacts.any(bindparam("visible_subject", type_=String)),
        ),
    )


def _project(project_id: str | uuid.UUID, field: str = "project_id") -> uuid.UUID:
    if isinstance(project_id, uuid.UUID):
        return project_id
    return parse_uuid(project_id, field=field)


def _copy_rule(principal: Principal) -> tuple[bool, ColumnElement[bool]]:
    """The rule on our copy, with the caller's values in it; False for staff."""
    kind, params = visibility_of(principal)
    a = project_audience.c
    rule = visibility_rule(kind, customer=a.customer_id, contacts=a.visible_contact_ids)
    return kind != "staff", rule.params(params) if params else rule


def project_visible(principal: Principal, project_id: ColumnElement[Any]) -> ColumnElement[bool]:
    """For a list query: rows (by their project id column) of projects the
    caller may see. A project we hold no copy of is visible to no client."""
    client, rule = _copy_rule(principal)
    if not client:
        return true()
    return exists().where(project_audience.c.project_id == project_id, rule)


def _visible_query(kind: str) -> Select:
    a = project_audience.c
    rule = visibility_rule(kind, customer=a.customer_id, contacts=a.visible_contact_ids)
    project = bindparam("visible_project", type_=Uuid)
    return select(a.project_id).where(a.project_id == project, rule)


# Built once per rule: a client's every read asks this, and building (and
# `.params()`-cloning) the statement per call cost more than running it.
_VISIBLE = {kind: _visible_query(kind) for kind in ("customer", "contact")}


async def project_is_visible(
    unit: UnitOfWork | ReadUnit, principal: Principal, project_id: str | uuid.UUID
) -> bool:
    """Whether the caller may see the project's records by our copy. Staff and
    services: always (whether the project exists is the caller's own question)."""
    kind, params = visibility_of(principal)
    if kind == "staff":
        return True
    query, values = _VISIBLE[kind], {**params, "visible_project": _project(project_id)}
    if isinstance(unit, ReadUnit):
        return (await unit.execute(query, values)).scalar() is not None
    return await unit.session.scalar(query, values) is not None


async def require_project_visible(
    unit: UnitOfWork | ReadUnit,
    principal: Principal,
    project_id: str | uuid.UUID,
    *,
    field: str = "project_id",
) -> None:
    """Refuse a client the project's records unless the project is for them:
    NOT_FOUND, the same words as an id that never existed."""
    if not await project_is_visible(unit, principal, _project(project_id, field)):
        raise NotFound("no such project", field=field)


@dataclass(frozen=True)
class Audience:
    customer_id: str
    visible_contact_ids: tuple[str, ...]

    def lists(self, contact_id: str) -> bool:
        return lists_contact(self.visible_contact_ids, contact_id)


async def audience_of(unit: UnitOfWork, project_id: str | uuid.UUID) -> Audience | None:
    """Our copy of the project's audience; None if projects never told us."""
    a = project_audience.c
    row = (
        await unit.session.execute(
            select(a.customer_id, a.visible_contact_ids).where(a.project_id == _project(project_id))
        )
    ).first()
    if row is None:
        return None
    return Audience(str(row.customer_id), tuple(row.visible_contact_ids))


# -- keeping the copy -------------------------------------------------------------------------


async def record_audience(
    uow: UnitOfWork,
    *,
    tenant_id: str,
    project_id: str,
    customer_id: str,
    visible_contact_ids: Sequence[str],
    changed_at: datetime,
) -> None:
    """Keep the project's audience if this fact is newer than the one we hold
    (the same fact again, a redelivery, changes nothing)."""
    pid = uuid.UUID(project_id)
    a = project_audience.c
    stored = await uow.session.scalar(
        select(a.changed_at).where(a.project_id == pid).with_for_update()
    )
    if not supersedes(changed_at, stored):
        return
    values = {
        "customer_id": uuid.UUID(customer_id),
        "visible_contact_ids": list(visible_contact_ids),
        "changed_at": changed_at,
    }
    # No row to lock: a concurrent first event may insert between our read and
    # this write, and the upsert's condition applies the same rule to it.
    await uow.session.execute(
        insert(project_audience)
        .values(project_id=pid, tenant_id=uuid.UUID(tenant_id), **values)
        .on_conflict_do_update(
            index_elements=[a.project_id], set_=values, where=a.changed_at < changed_at
        )
    )


# Projects' later events that state a project's whole audience at their time.
AudienceFact = project_events.ProjectAudienceChanged | project_events.ProjectStageChanged


async def on_project_audience(uow: UnitOfWork, event: Event[AudienceFact]) -> None:
    p = event.payload
    await record_audience(
        uow,
        tenant_id=event.tenant_id,
        project_id=p.project_id,
        customer_id=p.customer_id,
        visible_contact_ids=p.visible_contact_ids,
        changed_at=event.occurred_at,
    )


def audience_subscriptions(*, on_created: Handler | None = None) -> list[Subscription]:
    """Projects' audience events -> this service's copy; add to the service's
    handlers. A service that also handles `projects.project.created` passes its
    handler as `on_created`: one durable consumer per subject, one transaction."""

    async def created(uow: UnitOfWork, event: Event[project_events.ProjectCreated]) -> None:
        p = event.payload
        # The first fact about a project: whatever copy we hold came from it or
        # from a later change, so it only ever fills a gap.
        await uow.session.execute(
            insert(project_audience)
            .values(
                project_id=uuid.UUID(p.project_id),
                tenant_id=uuid.UUID(event.tenant_id),
                customer_id=uuid.UUID(p.customer_id),
                visible_contact_ids=list(p.visible_contact_ids),
                changed_at=event.occurred_at,
            )
            .on_conflict_do_nothing(index_elements=[project_audience.c.project_id])
        )
        if on_created is not None:
            await on_created(uow, event)

    return [
        Subscription(project_events.ProjectCreated, created),
        Subscription(project_events.ProjectAudienceChanged, on_project_audience),
    ]
