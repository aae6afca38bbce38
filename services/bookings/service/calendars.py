"""Visits as .ics: the client's copy of a booking (attached to every change's
event, and downloadable), and a technician's feed behind its secret token."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select

from services.bookings.domain_bookings import BookingStatus, WorkOrderStatus
from services.bookings.domain_ics import Visit, feed_ics, uid_for, visit_ics
from services.bookings.models import Assignment, ProjectFact, Technician, WorkOrder
from services.bookings.service.common import Sessions, feed_hash, load_settings, now_utc
from services.bookings.service.messages import BookingView
from services.chassis.auth import Principal
from services.chassis.db import UnitOfWork
from services.chassis.errors import NotFound

# What a subscribed calendar holds: a month back, a year ahead.
FEED_PAST = timedelta(days=31)
FEED_AHEAD = timedelta(days=366)


def _products(rows: list[dict]) -> str:
    return ", ".join(f"{p.get('manufacturer', '')} {p.get('model', '')}".strip() for p in rows)


def _details(order: WorkOrder, technician: str = "") -> str:
    lines = []
    if order.room_name:
        lines.append(f"Room: {order.room_name}")
    if order.products:
        lines.append(f"Equipment: {_products(order.products)}")
    if order.tasks:
        lines.append("Tasks: " + "; ".join(order.tasks))
    if technician:
        lines.append(f"Technician: {technician}")
    if order.description:
        lines.extend(["", order.description])
    return "\n".join(lines)


def booking_visit(view: BookingView) -> Visit:
    b, order = view.booking, view.work_order
    summary = b.service_type_name + (f" \u2014 {view.project_name}" if view.project_name else "")
    return Visit(
        uid=uid_for("booking", str(b.id)),
        sequence=b.sequence,
        summary=summary,
        starts_at=b.starts_at,
        ends_at=b.ends_at,
        time_zone=b.time_zone,
        description=_details(order, view.technician.full_name if view.technician else ""),
        location=order.site_address,
        cancelled=b.status == BookingStatus.CANCELLED,
        tentative=b.status == BookingStatus.PENDING,
    )


def booking_ics(view: BookingView) -> bytes:
    return visit_ics(booking_visit(view), stamp=now_utc())


def work_order_visit(order: WorkOrder, project_name: str, time_zone: str) -> Visit:
    """A visit as a technician's calendar holds it: the feed and the .ics
    emailed to them are built here alone, so both carry one UID and SEQUENCE
    and a calendar app that has both shows one event."""
    return Visit(
        uid=uid_for("work-order", str(order.id)),
        sequence=order.sequence,
        summary=order.title + (f" \u2014 {project_name}" if project_name else ""),
        starts_at=order.starts_at,
        ends_at=order.ends_at,
        time_zone=time_zone,
        description=_details(order),
        location=order.site_address,
        cancelled=order.status == WorkOrderStatus.CANCELLED,
        tentative=order.status == WorkOrderStatus.PENDING,
    )


def technician_ics(
    order: WorkOrder, project_name: str, time_zone: str, *, cancelled: bool = False
) -> bytes:
    """The technician's copy of one visit; `cancelled` for one it left."""
    visit = work_order_visit(order, project_name, time_zone)
    if cancelled:
        visit = replace(visit, cancelled=True, tentative=False)
    return visit_ics(visit, stamp=now_utc())


async def technician_feed(
    *, sessions: Sessions, principal: Principal, token: str
) -> tuple[bytes, str]:
    """The feed by its secret alone: the gateway calls as itself inside the
    tenant of the host; an unknown or revoked token is NOT_FOUND."""
    principal.require_staff()  # the gateway's service principal
    tenant_id = principal.require_tenant()
    if not token or len(token) > 100:
        raise NotFound("no such calendar", field="token")
    now = now_utc()
    async with UnitOfWork(sessions, tenant_id) as uow:
        tech = await uow.session.scalar(
            select(Technician).where(Technician.feed_token_sha256 == feed_hash(token))
        )
        if tech is None:
            raise NotFound("no such calendar", field="token")
        settings = await load_settings(uow)
        rows = (
            await uow.session.execute(
                select(WorkOrder, ProjectFact.name)
                .join(Assignment, Assignment.work_order_id == WorkOrder.id)
                .outerjoin(ProjectFact, ProjectFact.project_id == WorkOrder.project_id)
                .where(
                    Assignment.technician_id == tech.staff_user_id,
                    WorkOrder.ends_at > now - FEED_PAST,
                    WorkOrder.starts_at < now + FEED_AHEAD,
                )
                .order_by(WorkOrder.starts_at)
            )
        ).all()
        name = tech.full_name
    visits = [work_order_visit(order, project or "", settings.time_zone) for order, project in rows]
    return feed_ics(f"{name}: visits", visits, stamp=now), name
