"""Projects: list, read, create, edit details, move between stages."""

from __future__ import annotations

import asyncio
import base64
import functools
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from portal.projects.v1 import events_pb2
from sqlalchemy import DateTime, Integer, Row, Uuid, bindparam, select, tuple_

from services.chassis.access import check_portal, portal_state_column, portal_state_params
from services.chassis.auth import Principal
from services.chassis.db import ReadUnit, UnitOfWork, next_number
from services.chassis.errors import InvalidArgument, NotFound
from services.chassis.idempotency import refuse_reuse
from services.chassis.validation import check_request_id, parse_uuid
from services.projects import domain, domain_stages
from services.projects.models import Project
from services.projects.service.board import StatusBoard, read_board
from services.projects.service.common import (
    EDITOR_ROLE,
    Customers,
    Sessions,
    Tenants,
    load_project,
    now_utc,
    require_open_portal,
    visibility_of,
    visibility_rule,
)
from services.projects.service.stages import load_stage_rows

MAX_PAGE_SIZE = 100
PROJECT = Project.__table__


def _encode_cursor(project: Row[Any]) -> str:
    raw = f"{project.created_at.isoformat()}|{project.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _decode_cursor(token: str) -> tuple[datetime, uuid.UUID]:
    try:
        created, pid = base64.urlsafe_b64decode(token.encode()).decode().split("|")
        return datetime.fromisoformat(created), uuid.UUID(pid)
    except Exception:
        raise InvalidArgument("the page token is not valid", field="page_token") from None


@functools.cache
def _list_query(rule: str, *, after: bool) -> Any:
    """Built once per visibility rule and first/later page (building costs more
    than running); the caller passes the parameters."""
    c = PROJECT.c
    query = (
        select(PROJECT, portal_state_column(rule != "staff"))
        .where(visibility_rule(rule))
        .order_by(c.created_at.desc(), c.id.desc())
        .limit(bindparam("list_limit", type_=Integer))
    )
    if after:
        # A row comparison: the index range starts right after the cursor.
        cursor = tuple_(
            bindparam("after_created", type_=DateTime(timezone=True)),
            bindparam("after_id", type_=Uuid),
        )
        query = query.where(tuple_(c.created_at, c.id) < cursor)
    return query


async def list_projects(
    *, sessions: Sessions, principal: Principal, page_size: int, page_token: str
) -> tuple[list[Row[Any]], str]:
    """Newest first, keyset-paginated on (created_at, id): a hot read on a
    `ReadUnit` (rows, not ORM objects), served by ix_project_tenant_id_created_at_id.
    A client's portal state comes with the rows (one round trip); only a client
    with no rows to show asks for it on its own."""
    rows, next_token, _ = await list_projects_and_board(
        sessions=sessions, principal=principal, page_size=page_size, page_token=page_token
    )
    return rows, next_token


async def list_projects_and_board(
    *,
    sessions: Sessions,
    principal: Principal,
    page_size: int,
    page_token: str,
    board_if_only_one: bool = False,
) -> tuple[list[Row[Any]], str, StatusBoard | None]:
    """`list_projects`, and with `board_if_only_one` the board of an only
    project read in the same `ReadUnit` (the landing: one checkout and tenant
    check for both, where two use cases in a row paid them twice)."""
    tenant_id = principal.require_reader()
    size = min(page_size or 50, MAX_PAGE_SIZE)
    if size < 0:
        raise InvalidArgument("page size must be positive", field="page_size")
    rule, params = visibility_of(principal)
    params = {**params, **portal_state_params(principal), "list_limit": size + 1}
    if page_token:
        params["after_created"], params["after_id"] = _decode_cursor(page_token)
    query = _list_query(rule, after=bool(page_token))
    async with ReadUnit(sessions, tenant_id) as read:
        rows = list((await read.execute(query, params)).all())
        if rows:
            check_portal(principal, rows[0].portal_state)
        else:
            await require_open_portal(read, principal)
        board = None
        if board_if_only_one and len(rows) == 1:
            board = await read_board(read, principal, rows[0].id)
    next_token = _encode_cursor(rows[size - 1]) if len(rows) > size else ""
    return rows[:size], next_token, board


@functools.cache
def _project_query(rule: str) -> Any:
    return select(PROJECT, portal_state_column(rule != "staff")).where(
        PROJECT.c.id == bindparam("project_id", type_=Uuid), visibility_rule(rule)
    )


async def get_project(*, sessions: Sessions, principal: Principal, project_id: str) -> Row[Any]:
    """A hot read (the visit and invoice pages ask for it) on a `ReadUnit`: the
    project and a client's portal state in one query. A closed portal is
    refused before a missing project is reported, as `load_project` does."""
    tenant_id = principal.require_reader()
    pid = parse_uuid(project_id, field="project_id")
    rule, params = visibility_of(principal)
    params = {**params, **portal_state_params(principal), "project_id": pid}
    async with ReadUnit(sessions, tenant_id) as read:
        row = (await read.execute(_project_query(rule), params)).first()
        if row is None:
            await require_open_portal(read, principal)
            raise NotFound("no such project", field="project_id")
    check_portal(principal, row.portal_state)
    return row


async def create_project(
    *,
    sessions: Sessions,
    customers: Customers,
    tenants: Tenants,
    principal: Principal,
    request_id: str,
    name: str,
    customer_id: str,
    site_address: str,
    currency: str = "",
) -> Project:
    """For a customer identity knows in this tenant (asked before the
    transaction opens, so no lock waits on it)."""
    tenant_id = principal.require_editor(EDITOR_ROLE)
    request_id = check_request_id(request_id) or str(uuid.uuid4())
    fields = domain.new_project(
        name=name, customer_id=customer_id, site_address=site_address, currency=currency
    )
    # Both at once: each is a round trip to identity.
    customer, time_zone = await asyncio.gather(
        customers.customer(tenant_id, str(fields.customer_id)), tenants.time_zone(tenant_id)
    )
    domain.check_customer(customer)
    now = now_utc()
    async with UnitOfWork(sessions, tenant_id) as uow:
        # First: it waits for a create of the same tenant in flight, so a
        # double-click finds the first one's project below, not a duplicate key.
        number = await next_number(uow.session, tenant_id, "project")
        existing = await uow.session.scalar(select(Project).where(Project.request_id == request_id))
        if existing is not None:
            refuse_reuse(stored=existing.request_sha256, given=fields.digest)
            return existing  # a retried create answers with what it made (the number rolls back)
        project = Project(
            tenant_id=uuid.UUID(tenant_id),
            request_id=request_id,
            request_sha256=fields.digest,
            reference=domain.project_reference(number),
            name=fields.name,
            customer_id=fields.customer_id,
            site_address=fields.site_address,
            stage=domain.Stage.DESIGN,
            currency=fields.currency,
            created_at=now,
            stage_changed_at=now,
        )
        uow.session.add(project)
        await uow.flush()
        # The five stage rows; design starts the day the project is made, on
        # the integrator's clock.
        rows = await load_stage_rows(uow, project)
        rows[domain.Stage.DESIGN].actual_start = domain_stages.tenant_today(now, time_zone)
        uow.publish(_created(project), aggregate_type="project", aggregate_id=str(project.id))
        await uow.commit()
    return project


def _created(project: Project) -> events_pb2.ProjectCreated:
    return events_pb2.ProjectCreated(
        project_id=str(project.id),
        reference=project.reference,
        name=project.name,
        customer_id=str(project.customer_id),
        visible_contact_ids=project.visible_contact_ids,
    )


async def update_project(
    *,
    sessions: Sessions,
    customers: Customers,
    principal: Principal,
    project_id: str,
    changes: Mapping[str, Any],
) -> Project:
    """Changes only the fields in `changes` (from the request's field mask),
    under the project's row lock, so concurrent edits of different fields all
    land. Contacts named to see the project must be its customer's: identity
    is asked first, outside the transaction (a project's customer never changes)."""
    tenant_id = principal.require_editor(EDITOR_ROLE)
    listing = bool(changes.get("visible_contact_ids"))
    customer = None
    if listing:
        project = await get_project(sessions=sessions, principal=principal, project_id=project_id)
        customer = await customers.customer(tenant_id, str(project.customer_id))
    async with UnitOfWork(sessions, tenant_id) as uow:
        project = await load_project(uow, principal, project_id, lock=True)
        details = domain.change_project_details(details_of(project), changes)
        if listing:
            domain.check_visible_contacts(details.visible_contact_ids, customer)
        project.name = details.name
        project.site_address = details.site_address
        project.project_manager_id = details.project_manager_id
        project.project_manager_name = details.project_manager_name
        project.project_manager_email = details.project_manager_email
        if list(details.visible_contact_ids) != project.visible_contact_ids:
            project.visible_contact_ids = list(details.visible_contact_ids)
            # Documents and notifications keep a copy and hold their clients to it.
            uow.publish(
                events_pb2.ProjectAudienceChanged(
                    project_id=str(project.id),
                    customer_id=str(project.customer_id),
                    visible_contact_ids=project.visible_contact_ids,
                ),
                aggregate_type="project",
                aggregate_id=str(project.id),
                occurred_at=now_utc(),
            )
        if details.service_contract != project.service_contract:
            project.service_contract = details.service_contract
            # Bookings lets a customer with a service contract book visits.
            uow.publish(
                events_pb2.ProjectServiceContractChanged(
                    project_id=str(project.id),
                    customer_id=str(project.customer_id),
                    service_contract=project.service_contract,
                ),
                aggregate_type="project",
                aggregate_id=str(project.id),
                occurred_at=now_utc(),
            )
        await uow.commit()
    return project


def details_of(project: Project) -> domain.ProjectDetails:
    return domain.ProjectDetails(
        name=project.name,
        site_address=project.site_address,
        project_manager_id=project.project_manager_id,
        project_manager_name=project.project_manager_name,
        project_manager_email=project.project_manager_email,
        visible_contact_ids=tuple(project.visible_contact_ids),
        service_contract=project.service_contract,
    )
