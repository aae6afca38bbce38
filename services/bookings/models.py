"""Tables bookings owns. Every row carries tenant_id and is under RLS.

A technician's time is held by `assignment` rows (one per technician of a
work order): their blocks, buffers included, can never overlap while active:
the exclusion constraint `ex_assignment_no_overlap` (btree_gist, created in
migration 0001) refuses the second row whatever the application checked.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.chassis.db import NAMING


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _now() -> Any:
    return mapped_column(DateTime(timezone=True), server_default=func.now())


class BookingSettings(Base):
    """One row per tenant: the clock working hours are read on, travel time."""

    __tablename__ = "booking_settings"
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    default_travel_minutes: Mapped[int] = mapped_column(Integer, default=30, server_default="30")
    updated_at: Mapped[datetime] = _now()


class Technician(Base):
    """A staff user with the technician role (from identity's events), and
    what dispatch knows of them."""

    __tablename__ = "technician"
    staff_user_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    full_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    skills: Mapped[list[str]] = mapped_column(ARRAY(String(40)), default=list, server_default="{}")
    home_base: Mapped[str] = mapped_column(String(300), default="", server_default="")
    home_latitude: Mapped[float | None] = mapped_column(Float)
    home_longitude: Mapped[float | None] = mapped_column(Float)
    # [{"weekday": 1..7, "start": "HH:MM", "end": "HH:MM"}] on the tenant's clock.
    working_hours: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    # SHA-256 of the feed URL's secret; NULL = no feed (revoked or never issued).
    feed_token_sha256: Mapped[str | None] = mapped_column(String(64), unique=True)
    feed_issued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Identity's event time: an older staff event arriving late changes nothing.
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TimeOff(Base):
    __tablename__ = "time_off"
    __table_args__ = (UniqueConstraint("tenant_id", "request_id"),)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    request_id: Mapped[str] = mapped_column(String(100))
    technician_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("technician.staff_user_id"), index=True
    )
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str] = mapped_column(String(200), default="")
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = _now()


class ServiceType(Base):
    __tablename__ = "service_type"
    __table_args__ = (UniqueConstraint("tenant_id", "request_id"),)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    request_id: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    duration_minutes: Mapped[int] = mapped_column(Integer)
    step_minutes: Mapped[int] = mapped_column(Integer, default=0)
    skills: Mapped[list[str]] = mapped_column(ARRAY(String(40)), default=list)
    buffer_before_minutes: Mapped[int] = mapped_column(Integer, default=0)
    buffer_after_minutes: Mapped[int] = mapped_column(Integer, default=0)
    min_notice_minutes: Mapped[int] = mapped_column(Integer)
    horizon_days: Mapped[int] = mapped_column(Integer)
    cancel_cutoff_minutes: Mapped[int] = mapped_column(Integer)
    reschedule_cutoff_minutes: Mapped[int] = mapped_column(Integer)
    requires_confirmation: Mapped[bool] = mapped_column(Boolean, default=False)
    allow_service_contract: Mapped[bool] = mapped_column(Boolean, default=True)
    allow_after_handover: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = _now()


class ProjectFact(Base):
    """Bookings' copy of what projects said about a project (its events), and
    where its site is (set here, for travel time)."""

    __tablename__ = "project_fact"
    project_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    reference: Mapped[str] = mapped_column(String(20), default="")
    stage: Mapped[str] = mapped_column(String(20), default="", server_default="")
    stage_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    service_contract: Mapped[bool] = mapped_column(Boolean, default=False)
    contract_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)


class WorkOrder(Base):
    __tablename__ = "work_order"
    __table_args__ = (UniqueConstraint("tenant_id", "request_id"),)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    request_id: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    project_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    booking_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    title: Mapped[str] = mapped_column(String(200))
    room_id: Mapped[str] = mapped_column(String(100), default="")
    room_name: Mapped[str] = mapped_column(String(200), default="")
    # [{"line_id", "manufacturer", "model"}] as the client saw them when booking.
    products: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    tasks: Mapped[list[str]] = mapped_column(JSONB, default=list)
    description: Mapped[str] = mapped_column(Text, default="")
    site_address: Mapped[str] = mapped_column(Text, default="", server_default="")
    photo_document_ids: Mapped[list[str]] = mapped_column(ARRAY(String(100)), default=list)
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    buffer_before_minutes: Mapped[int] = mapped_column(Integer, default=0)
    buffer_after_minutes: Mapped[int] = mapped_column(Integer, default=0)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    conflict: Mapped[str] = mapped_column(String(300), default="", server_default="")
    # The technician's .ics SEQUENCE: up by one with every change they would see.
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = _now()


class Assignment(Base):
    """A technician's time on a work order: its block, buffers included.
    `active` follows the work order's status (pending, scheduled, in progress)."""

    __tablename__ = "assignment"
    __table_args__ = (UniqueConstraint("work_order_id", "technician_id"),)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    work_order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("work_order.id"), index=True)
    technician_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("technician.staff_user_id"))
    block_starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    block_ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Booking(Base):
    __tablename__ = "booking"
    __table_args__ = (UniqueConstraint("tenant_id", "request_id"),)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    request_id: Mapped[str] = mapped_column(String(100))
    request_sha256: Mapped[str] = mapped_column(String(64))
    customer_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    project_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    service_type_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("service_type.id"))
    service_type_name: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20))
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The clock the client booked on; the .ics writes the visit on it.
    time_zone: Mapped[str] = mapped_column(String(64))
    work_order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("work_order.id"))
    # The client's .ics SEQUENCE: up by one with every change of the booking.
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    booked_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = _now()
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancel_reason: Mapped[str] = mapped_column(Text, default="")


class ChangeOrderWork(Base):
    """An approved change order, once: its tasks and schedule shift were put
    on the project's install work orders (a redelivery finds it here)."""

    __tablename__ = "change_order_work"
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    change_order_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    project_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    reference: Mapped[str] = mapped_column(String(30))
    work_orders: Mapped[int] = mapped_column(Integer, default=0)
    flagged: Mapped[int] = mapped_column(Integer, default=0)
    applied_at: Mapped[datetime] = _now()
