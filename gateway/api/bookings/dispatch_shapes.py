"""The JSON shapes of the dispatch side of bookings (technicians, time off,
feeds, service types, the booking settings, work orders, staff actions on a
booking) and their translation from bookings' messages. No decisions here:
bookings decides who may see and change what."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from portal.bookings.v1 import bookings_pb2 as pb
from pydantic import BaseModel, Field

from gateway.api.fields import Int32, Line, Text
from gateway.api.translate import timestamp
from services.chassis import enums

WorkOrderKind = Literal["install", "service"]
WorkOrderStatus = Literal["pending", "scheduled", "in_progress", "completed", "cancelled"]
BookingStatus = Literal["pending", "confirmed", "cancelled"]
Skill = Line  # bounded by bookings ("networking", "cinema calibration"...)
WallTime = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description='"HH:MM", the tenant\'s clock')


# -- technicians ------------------------------------------------------------------------


class WorkingHours(BaseModel):
    weekday: int = Field(ge=1, le=7, description="1 = Monday ... 7 = Sunday (ISO 8601).")
    start: Line = WallTime
    end: Line = WallTime


class Coordinates(BaseModel):
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)


class Technician(BaseModel):
    staff_user_id: UUID
    full_name: str
    email: str
    active: bool = Field(description="Holds the technician role; a former one keeps history.")
    skills: list[str]
    home_base: str
    home: Coordinates | None
    working_hours: list[WorkingHours]
    has_feed: bool = Field(description="A calendar feed URL is live.")


class TechnicianList(BaseModel):
    technicians: list[Technician]


class TechnicianChange(BaseModel):
    """Only the fields sent change (the update mask); `home: null` forgets the
    coordinates."""

    skills: list[Skill] | None = Field(None, max_length=30)
    home_base: Line | None = Field(None, max_length=300)
    home: Coordinates | None = None
    working_hours: list[WorkingHours] | None = Field(None, max_length=28)


class TimeOffIn(BaseModel):
    starts_at: datetime
    ends_at: datetime
    reason: Line = Field("", max_length=300)


class TimeOff(BaseModel):
    id: UUID
    technician_id: UUID
    starts_at: datetime | None
    ends_at: datetime | None
    reason: str


class AddedTimeOff(BaseModel):
    time_off: TimeOff
    conflicting_work_order_ids: list[UUID] = Field(
        description="The technician's work orders inside it, now flagged for dispatch."
    )


class TimeOffList(BaseModel):
    time_off: list[TimeOff]


class FeedToken(BaseModel):
    token: str = Field(description="Shown once: the secret in the feed URL.")
    url: str = Field(description="The calendar feed to subscribe to (webcal-ready https URL).")


# -- settings and service types -----------------------------------------------------------


class BookingSettings(BaseModel):
    time_zone: str = Field(description="IANA; working hours and days are on this clock.")
    default_travel_minutes: int


class BookingSettingsChange(BaseModel):
    time_zone: Line | None = Field(None, max_length=64)
    default_travel_minutes: int | None = Field(None, ge=0, le=600)


class ServiceTypeFields(BaseModel):
    """Every field of a service type; bookings checks them whole."""

    name: Line = Field(min_length=1, max_length=120)
    description: Text = Field("", max_length=2000)
    duration_minutes: Int32 = Field(ge=5, le=24 * 60)
    step_minutes: Int32 = Field(0, ge=0, le=24 * 60, description="0 = the duration.")
    skills: list[Skill] = Field(default_factory=list, max_length=20)
    buffer_before_minutes: Int32 = Field(0, ge=0, le=24 * 60)
    buffer_after_minutes: Int32 = Field(0, ge=0, le=24 * 60)
    min_notice_minutes: Int32 = Field(0, ge=0, le=90 * 24 * 60)
    horizon_days: Int32 = Field(30, ge=1, le=366)
    cancel_cutoff_minutes: Int32 = Field(0, ge=0, le=90 * 24 * 60)
    reschedule_cutoff_minutes: Int32 = Field(0, ge=0, le=90 * 24 * 60)
    requires_confirmation: bool = False
    allow_service_contract: bool = True
    allow_after_handover: bool = False
    active: bool = True


class ServiceType(ServiceTypeFields):
    id: UUID


class ServiceTypeList(BaseModel):
    service_types: list[ServiceType]


class ServiceTypeChange(BaseModel):
    """Only the fields sent change (the update mask relative to the service type)."""

    name: Line | None = Field(None, min_length=1, max_length=120)
    description: Text | None = Field(None, max_length=2000)
    duration_minutes: Int32 | None = Field(None, ge=5, le=24 * 60)
    step_minutes: Int32 | None = Field(None, ge=0, le=24 * 60)
    skills: list[Skill] | None = Field(None, max_length=20)
    buffer_before_minutes: Int32 | None = Field(None, ge=0, le=24 * 60)
    buffer_after_minutes: Int32 | None = Field(None, ge=0, le=24 * 60)
    min_notice_minutes: Int32 | None = Field(None, ge=0, le=90 * 24 * 60)
    horizon_days: Int32 | None = Field(None, ge=1, le=366)
    cancel_cutoff_minutes: Int32 | None = Field(None, ge=0, le=90 * 24 * 60)
    reschedule_cutoff_minutes: Int32 | None = Field(None, ge=0, le=90 * 24 * 60)
    requires_confirmation: bool | None = None
    allow_service_contract: bool | None = None
    allow_after_handover: bool | None = None
    active: bool | None = None


class ProjectSite(Coordinates):
    """Where the project is, for travel time between visits: its own schema
    name in the API document, the same two bounded numbers."""


# -- work orders -----------------------------------------------------------------------------


class Product(BaseModel):
    line_id: str
    manufacturer: str
    model: str


class WorkOrder(BaseModel):
    id: UUID
    kind: WorkOrderKind
    status: WorkOrderStatus
    project_id: UUID
    project_name: str
    customer_id: UUID | None
    booking_id: UUID | None = Field(description="Set for a client's booking (a service visit).")
    title: str
    room_id: str
    room_name: str
    products: list[Product]
    tasks: list[str]
    description: str
    photo_document_ids: list[UUID]
    starts_at: datetime | None
    ends_at: datetime | None
    buffer_before_minutes: int
    buffer_after_minutes: int
    technician_ids: list[UUID] = Field(description="Empty: unassigned.")
    conflict: str = Field(description="Why dispatch must look at it (time off...); empty if none.")
    sequence: int


class WorkOrderList(BaseModel):
    work_orders: list[WorkOrder]


class NewWorkOrder(BaseModel):
    title: Line = Field(min_length=1, max_length=200)
    room_name: Line = Field("", max_length=200)
    tasks: list[Line] = Field(default_factory=list, max_length=50)
    technician_ids: list[UUID] = Field(default_factory=list, max_length=6)
    starts_at: datetime
    ends_at: datetime


class WorkOrderChange(BaseModel):
    """Only the fields sent change (the update mask): assign (`technician_ids`,
    `[]` unassigns), move (`starts_at`, `ends_at`), advance (`status`)."""

    title: Line | None = Field(None, min_length=1, max_length=200)
    room_name: Line | None = Field(None, max_length=200)
    tasks: list[Line] | None = Field(None, max_length=50)
    technician_ids: list[UUID] | None = Field(None, max_length=6)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    status: WorkOrderStatus | None = None


# -- a booking, as dispatch acts on it -------------------------------------------------------


class DispatchBooking(BaseModel):
    id: UUID
    project_id: UUID
    project_name: str
    customer_id: UUID
    service_type_id: UUID
    service_type_name: str
    status: BookingStatus
    starts_at: datetime | None
    ends_at: datetime | None
    time_zone: str
    work_order_id: UUID | None
    technician_id: UUID | None
    technician_name: str
    room_name: str = Field(description='Empty: "something else".')
    products: list[Product]
    description: str
    created_at: datetime | None
    cancelled_at: datetime | None
    cancel_reason: str


class DispatchBookingPage(BaseModel):
    bookings: list[DispatchBooking]
    next_page_token: str


class StaffReschedule(BaseModel):
    starts_at: datetime


class StaffCancel(BaseModel):
    reason: Text = Field("", max_length=500)


# -- from bookings' messages ---------------------------------------------------------------------


def _uuid(value: str) -> UUID | None:
    return UUID(value) if value else None


def technician_out(t: pb.Technician) -> Technician:
    return Technician(
        staff_user_id=UUID(t.staff_user_id),
        full_name=t.full_name,
        email=t.email,
        active=t.active,
        skills=list(t.skills),
        home_base=t.home_base,
        home=(
            Coordinates(latitude=t.home_latitude, longitude=t.home_longitude)
            if t.has_home_coordinates
            else None
        ),
        working_hours=[
            WorkingHours(weekday=h.weekday, start=h.start, end=h.end) for h in t.working_hours
        ],
        has_feed=t.has_feed,
    )


def time_off_out(t: pb.TimeOff) -> TimeOff:
    return TimeOff(
        id=UUID(t.id),
        technician_id=UUID(t.technician_id),
        starts_at=timestamp(t, "starts_at"),
        ends_at=timestamp(t, "ends_at"),
        reason=t.reason,
    )


def settings_out(s: pb.BookingSettings) -> BookingSettings:
    return BookingSettings(time_zone=s.time_zone, default_travel_minutes=s.default_travel_minutes)


SERVICE_TYPE_FIELDS = tuple(ServiceTypeFields.model_fields)


def service_type_out(s: pb.ServiceType) -> ServiceType:
    values = {name: getattr(s, name) for name in SERVICE_TYPE_FIELDS}
    values["skills"] = list(s.skills)
    return ServiceType(id=UUID(s.id), **values)


def _products(rows: object) -> list[Product]:
    return [Product(line_id=p.line_id, manufacturer=p.manufacturer, model=p.model) for p in rows]  # type: ignore[attr-defined]


def work_order_out(w: pb.WorkOrder) -> WorkOrder:
    return WorkOrder(
        id=UUID(w.id),
        kind=enums.short_name(pb.WorkOrderKind, w.kind),  # type: ignore[arg-type]
        status=enums.short_name(pb.WorkOrderStatus, w.status),  # type: ignore[arg-type]
        project_id=UUID(w.project_id),
        project_name=w.project_name,
        customer_id=_uuid(w.customer_id),
        booking_id=_uuid(w.booking_id),
        title=w.title,
        room_id=w.room_id,
        room_name=w.room_name,
        products=_products(w.products),
        tasks=list(w.tasks),
        description=w.description,
        photo_document_ids=[UUID(d) for d in w.photo_document_ids],
        starts_at=timestamp(w, "starts_at"),
        ends_at=timestamp(w, "ends_at"),
        buffer_before_minutes=w.buffer_before_minutes,
        buffer_after_minutes=w.buffer_after_minutes,
        technician_ids=[UUID(t) for t in w.technician_ids],
        conflict=w.conflict,
        sequence=w.sequence,
    )


def booking_out(b: pb.Booking) -> DispatchBooking:
    return DispatchBooking(
        id=UUID(b.id),
        project_id=UUID(b.project_id),
        project_name=b.project_name,
        customer_id=UUID(b.customer_id),
        service_type_id=UUID(b.service_type_id),
        service_type_name=b.service_type_name,
        status=enums.short_name(pb.BookingStatus, b.status),  # type: ignore[arg-type]
        starts_at=timestamp(b, "starts_at"),
        ends_at=timestamp(b, "ends_at"),
        time_zone=b.time_zone,
        work_order_id=_uuid(b.work_order_id),
        technician_id=_uuid(b.technician_id),
        technician_name=b.technician_name,
        room_name=b.room_name,
        products=_products(b.products),
        description=b.description,
        created_at=timestamp(b, "created_at"),
        cancelled_at=timestamp(b, "cancelled_at"),
        cancel_reason=b.cancel_reason,
    )
