"""What staff set up: technicians' skills, hours, home base and time off; the
tenant's settings and project sites; service types; technicians' feed tokens."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Mapping
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from services.bookings import domain_calendar as cal
from services.bookings.domain_bookings import ACTIVE
from services.bookings.models import (
    Assignment,
    BookingSettings,
    ServiceType,
    Technician,
    TimeOff,
    WorkOrder,
)
from services.bookings.service.common import (
    Sessions,
    feed_hash,
    load_fact,
    load_settings,
    load_technician,
    now_utc,
    require_dispatcher,
    require_staff_reader,
    spec_of,
    tenant_uuid,
)
from services.bookings.service.work_orders import flag_conflict
from services.chassis.access import require_open_portal
from services.chassis.auth import Principal
from services.chassis.db import UnitOfWork
from services.chassis.errors import AlreadyExists, NotFound
from services.chassis.validation import check_request_id, parse_uuid, single_line

TECHNICIAN_FIELDS = ("skills", "home_base", "home_coordinates", "working_hours")
SETTINGS_FIELDS = ("time_zone", "default_travel_minutes")


async def list_technicians(
    *, sessions: Sessions, principal: Principal, include_inactive: bool = False
) -> list[Technician]:
    async with UnitOfWork(sessions, require_staff_reader(principal)) as uow:
        query = select(Technician).order_by(Technician.full_name, Technician.staff_user_id)
        if not include_inactive:
            query = query.where(Technician.active.is_(True))
        return list((await uow.session.scalars(query)).all())


async def update_technician(
    *, sessions: Sessions, principal: Principal, technician_id: str, changes: Mapping[str, Any]
) -> Technician:
    tenant_id = require_dispatcher(principal)
    async with UnitOfWork(sessions, tenant_id) as uow:
        tech = await load_technician(uow, technician_id, lock=True)
        if "skills" in changes:
            tech.skills = cal.check_skills(changes["skills"])
        if "home_base" in changes:
            tech.home_base = single_line(changes["home_base"], field="home_base", max_len=300)
        if "home_coordinates" in changes:
            coords = changes["home_coordinates"]
            if coords is None:
                tech.home_latitude = tech.home_longitude = None
            else:
                tech.home_latitude, tech.home_longitude = cal.check_coordinates(
                    *coords, prefix="home_"
                )
        if "working_hours" in changes:
            tech.working_hours = cal.check_hours(changes["working_hours"])
        await uow.commit()
    return tech


async def add_time_off(
    *,
    sessions: Sessions,
    principal: Principal,
    request_id: str,
    technician_id: str,
    starts_at: datetime | None,
    ends_at: datetime | None,
    reason: str,
) -> tuple[TimeOff, list[str]]:
    """Time off; the technician's visits inside it are flagged, not moved:
    dispatch decides who goes instead."""
    tenant_id = require_dispatcher(principal)
    start, end, why = cal.check_time_off(starts_at, ends_at, reason)
    request_id = check_request_id(request_id) or str(uuid.uuid4())
    async with UnitOfWork(sessions, tenant_id) as uow:
        existing = await uow.session.scalar(select(TimeOff).where(TimeOff.request_id == request_id))
        if existing is not None:
            return existing, []
        tech = await load_technician(uow, technician_id, lock=True)
        off = TimeOff(
            tenant_id=tenant_uuid(uow),
            request_id=request_id,
            technician_id=tech.staff_user_id,
            starts_at=start,
            ends_at=end,
            reason=why,
            created_by=principal.subject,
        )
        uow.session.add(off)
        orders = (
            await uow.session.scalars(
                select(WorkOrder)
                .join(Assignment, Assignment.work_order_id == WorkOrder.id)
                .where(
                    Assignment.technician_id == tech.staff_user_id,
                    Assignment.active.is_(True),
                    Assignment.block_starts_at < end,
                    Assignment.block_ends_at > start,
                    WorkOrder.status.in_(list(ACTIVE)),
                )
                .order_by(WorkOrder.starts_at)
            )
        ).all()
        for order in orders:
            flag_conflict(uow, order, str(tech.staff_user_id), f"{tech.full_name} is off then")
        await uow.commit()
    return off, [str(o.id) for o in orders]


async def remove_time_off(*, sessions: Sessions, principal: Principal, time_off_id: str) -> None:
    async with UnitOfWork(sessions, require_dispatcher(principal)) as uow:
        off = await uow.session.get(TimeOff, parse_uuid(time_off_id, field="time_off_id"))
        if off is None:
            raise NotFound("no such time off", field="time_off_id")
        await uow.session.delete(off)
        await uow.commit()


async def list_time_off(
    *,
    sessions: Sessions,
    principal: Principal,
    technician_id: str,
    start: datetime | None,
    end: datetime | None,
) -> list[TimeOff]:
    query = select(TimeOff).order_by(TimeOff.starts_at)
    if technician_id:
        query = query.where(
            TimeOff.technician_id == parse_uuid(technician_id, field="technician_id")
        )
    if start is not None:
        query = query.where(TimeOff.ends_at > start)
    if end is not None:
        query = query.where(TimeOff.starts_at < end)
    async with UnitOfWork(sessions, require_staff_reader(principal)) as uow:
        return list((await uow.session.scalars(query.limit(1000))).all())


# -- settings, sites -----------------------------------------------------------------------


async def get_settings(*, sessions: Sessions, principal: Principal) -> BookingSettings:
    async with UnitOfWork(sessions, principal.require_reader()) as uow:
        settings = await load_settings(uow)
        await uow.commit()
    return settings


async def update_settings(
    *, sessions: Sessions, principal: Principal, changes: Mapping[str, Any]
) -> BookingSettings:
    async with UnitOfWork(sessions, require_dispatcher(principal)) as uow:
        settings = await load_settings(uow, lock=True)
        zone_name, travel = cal.check_settings(
            changes.get("time_zone", settings.time_zone),
            changes.get("default_travel_minutes", settings.default_travel_minutes),
        )
        settings.time_zone, settings.default_travel_minutes = zone_name, travel
        settings.updated_at = now_utc()
        await uow.commit()
    return settings


async def set_project_site(
    *,
    sessions: Sessions,
    principal: Principal,
    project_id: str,
    coordinates: tuple[float, float] | None,
) -> None:
    async with UnitOfWork(sessions, require_dispatcher(principal)) as uow:
        fact = await load_fact(uow, project_id)
        if fact is None:
            raise NotFound("no such project", field="project_id")
        if coordinates is None:
            fact.latitude = fact.longitude = None
        else:
            fact.latitude, fact.longitude = cal.check_coordinates(*coordinates)
        await uow.commit()


# -- service types ---------------------------------------------------------------------


async def list_service_types(*, sessions: Sessions, principal: Principal) -> list[ServiceType]:
    async with UnitOfWork(sessions, principal.require_reader()) as uow:
        await require_open_portal(uow, principal)
        query = select(ServiceType).order_by(ServiceType.name, ServiceType.id)
        if principal.is_client:
            query = query.where(ServiceType.active.is_(True))
        return list((await uow.session.scalars(query)).all())


async def create_service_type(
    *, sessions: Sessions, principal: Principal, request_id: str, values: Mapping[str, Any]
) -> ServiceType:
    tenant_id = require_dispatcher(principal)
    spec = cal.check_service_type(values)
    request_id = check_request_id(request_id) or str(uuid.uuid4())
    async with UnitOfWork(sessions, tenant_id) as uow:
        existing = await uow.session.scalar(
            select(ServiceType).where(ServiceType.request_id == request_id)
        )
        if existing is not None:
            return existing
        row = ServiceType(tenant_id=tenant_uuid(uow), request_id=request_id, **_columns(spec))
        uow.session.add(row)
        await uow.commit()
    return row


async def update_service_type(
    *, sessions: Sessions, principal: Principal, service_type_id: str, changes: Mapping[str, Any]
) -> ServiceType:
    """Merged with what is stored and checked whole. Booked visits keep the
    rules they were booked under (their blocks are already held)."""
    async with UnitOfWork(sessions, require_dispatcher(principal)) as uow:
        sid = parse_uuid(service_type_id, field="service_type_id")
        row = await uow.session.get(ServiceType, sid, with_for_update=True)
        if row is None:
            raise NotFound("no such service type", field="service_type_id")
        spec = cal.check_service_type({**asdict(spec_of(row)), **changes})
        for key, value in _columns(spec).items():
            setattr(row, key, value)
        await uow.commit()
    return row


def _columns(spec: cal.ServiceTypeSpec) -> dict[str, Any]:
    values = asdict(spec)
    values["skills"] = list(spec.skills)
    return values


# -- feeds ------------------------------------------------------------------------------


async def issue_feed_token(*, sessions: Sessions, principal: Principal, technician_id: str) -> str:
    """A new secret for the technician's feed URL (the old one stops working).
    A technician may issue their own; dispatch anyone's. Only its hash is kept."""
    tenant_id = principal.require_tenant()
    if principal.subject != technician_id:
        require_dispatcher(principal)
    principal.require_staff()
    principal.require_writable()
    token = secrets.token_urlsafe(32)
    async with UnitOfWork(sessions, tenant_id) as uow:
        tech = await load_technician(uow, technician_id, lock=True)
        tech.feed_token_sha256, tech.feed_issued_at = feed_hash(token), now_utc()
        try:
            await uow.commit()
        except IntegrityError:  # 256 random bits colliding: never; say so plainly
            raise AlreadyExists("try again") from None
    return token


async def revoke_feed_token(
    *, sessions: Sessions, principal: Principal, technician_id: str
) -> None:
    tenant_id = principal.require_tenant()
    if principal.subject != technician_id:
        require_dispatcher(principal)
    principal.require_staff()
    async with UnitOfWork(sessions, tenant_id) as uow:
        tech = await load_technician(uow, technician_id, lock=True)
        tech.feed_token_sha256 = tech.feed_issued_at = None
        await uow.commit()
