"""The JSON shapes of visits (bookings), slots, service types and the
equipment a client books against, and the translation from bookings'
messages. The client's pages render these same models."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal
from uuid import UUID

from portal.bookings.v1 import bookings_pb2
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from gateway.api.fields import Text
from gateway.api.translate import timestamp
from gateway.problems import Problem
from services.chassis import enums

B = bookings_pb2

BookingStatusName = Literal["pending", "confirmed", "cancelled"]


class ServiceType(BaseModel):
    id: str
    name: str
    description: str
    duration_minutes: int
    step_minutes: int = Field(description="Between offered start times; 0 = the duration.")
    skills: list[str]
    buffer_before_minutes: int
    buffer_after_minutes: int
    min_notice_minutes: int
    horizon_days: int
    cancel_cutoff_minutes: int = Field(description="Clients may cancel until this long before.")
    reschedule_cutoff_minutes: int = Field(
        description="Clients may move it until this long before."
    )
    requires_confirmation: bool = Field(
        description="A booking waits for staff (it holds its slot)."
    )
    allow_service_contract: bool
    allow_after_handover: bool
    active: bool


class ServiceTypeList(BaseModel):
    service_types: list[ServiceType]


class Product(BaseModel):
    line_id: str
    manufacturer: str
    model: str


class Room(BaseModel):
    """A room of the project as projects shows it to the caller, and its products."""

    id: str
    name: str
    products: list[Product]


class BookableProject(BaseModel):
    project_id: str
    name: str
    reference: str
    service_contract: bool
    past_handover: bool
    rooms: list[Room] = Field(
        description='The equipment to choose from; none chosen is "something else".'
    )


class BookableProjects(BaseModel):
    projects: list[BookableProject]
    read_only: bool = Field(
        description="The caller may look but not book (an archived customer, view-as)."
    )


class Slot(BaseModel):
    starts_at: datetime
    ends_at: datetime
    local_date: str = Field(description="YYYY-MM-DD on the site's clock.")
    local_time: str = Field(description="HH:MM on the site's clock.")


class SlotList(BaseModel):
    time_zone: str = Field(description="The IANA zone local_date and local_time are in.")
    slots: list[Slot]


class Booking(BaseModel):
    id: str
    project_id: str
    project_name: str
    customer_id: str
    service_type_id: str
    service_type_name: str
    status: BookingStatusName
    starts_at: datetime | None
    ends_at: datetime | None
    time_zone: str
    work_order_id: str
    technician_id: str
    technician_name: str
    room_id: str
    room_name: str = Field(description='Empty: "something else".')
    products: list[Product]
    description: str
    photo_document_ids: list[str]
    sequence: int = Field(description="The .ics SEQUENCE of its last change.")
    booked_by: str
    created_at: datetime | None
    cancelled_at: datetime | None
    cancel_reason: str
    can_reschedule: bool = Field(description="What the caller may still do (cut-offs applied).")
    can_cancel: bool


class Visits(BaseModel):
    upcoming: list[Booking] = Field(description="Soonest first.")
    past: list[Booking] = Field(description="Newest first.")
    next_page_token: str


class NewVisit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    project_id: UUID
    service_type_id: UUID
    starts_at: AwareDatetime = Field(description="A slot's starts_at, from GET /bookings/slots.")
    room_id: UUID | None = Field(None, description='None: "something else".')
    product_line_ids: list[UUID] = Field(default_factory=list, max_length=20)
    description: Text = Field("", max_length=4000, description="What is wrong, in your words.")
    photo_document_ids: list[UUID] = Field(
        default_factory=list,
        max_length=10,
        description="Photos uploaded with POST /projects/{id}/visit-photos first.",
    )


class Reschedule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    starts_at: AwareDatetime


class Cancellation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Text = Field("", max_length=1000)


class Contact(BaseModel):
    to: str
    href: str = Field(description="A mailto: link, pre-filled.")
    who: str


class SlotTakenProblem(Problem):
    """409 `slot_taken`: someone else just booked the time; the free times now."""

    slots: list[Slot]
    time_zone: str


class PastCutoffProblem(Problem):
    """409 `past_cutoff`: too late to change online; whom to ask instead."""

    contact: Contact | None


class VisitPhoto(BaseModel):
    document_id: str
    filename: str
    content_type: str
    size_bytes: int


# -- translation ----------------------------------------------------------------------


def status_name(value: bookings_pb2.BookingStatus.ValueType) -> str:
    return enums.short_name(B.BookingStatus, value)


def service_type_out(t: bookings_pb2.ServiceType) -> ServiceType:
    return ServiceType(
        id=t.id,
        name=t.name,
        description=t.description,
        duration_minutes=t.duration_minutes,
        step_minutes=t.step_minutes,
        skills=list(t.skills),
        buffer_before_minutes=t.buffer_before_minutes,
        buffer_after_minutes=t.buffer_after_minutes,
        min_notice_minutes=t.min_notice_minutes,
        horizon_days=t.horizon_days,
        cancel_cutoff_minutes=t.cancel_cutoff_minutes,
        reschedule_cutoff_minutes=t.reschedule_cutoff_minutes,
        requires_confirmation=t.requires_confirmation,
        allow_service_contract=t.allow_service_contract,
        allow_after_handover=t.allow_after_handover,
        active=t.active,
    )


def slot_out(s: bookings_pb2.Slot) -> Slot:
    return Slot(
        starts_at=s.starts_at.ToDatetime(tzinfo=UTC),
        ends_at=s.ends_at.ToDatetime(tzinfo=UTC),
        local_date=s.local_date,
        local_time=s.local_time,
    )


def product_out(p: bookings_pb2.Product) -> Product:
    return Product(line_id=p.line_id, manufacturer=p.manufacturer, model=p.model)


def booking_out(b: bookings_pb2.Booking) -> Booking:
    return Booking(
        id=b.id,
        project_id=b.project_id,
        project_name=b.project_name,
        customer_id=b.customer_id,
        service_type_id=b.service_type_id,
        service_type_name=b.service_type_name,
        status=status_name(b.status),  # type: ignore[arg-type]  # validated by the model
        starts_at=timestamp(b, "starts_at"),
        ends_at=timestamp(b, "ends_at"),
        time_zone=b.time_zone,
        work_order_id=b.work_order_id,
        technician_id=b.technician_id,
        technician_name=b.technician_name,
        room_id=b.room_id,
        room_name=b.room_name,
        products=[product_out(p) for p in b.products],
        description=b.description,
        photo_document_ids=list(b.photo_document_ids),
        sequence=b.sequence,
        booked_by=b.booked_by,
        created_at=timestamp(b, "created_at"),
        cancelled_at=timestamp(b, "cancelled_at"),
        cancel_reason=b.cancel_reason,
        can_reschedule=b.can_reschedule,
        can_cancel=b.can_cancel,
    )


def split_visits(bookings: list[Booking], now: datetime) -> tuple[list[Booking], list[Booking]]:
    """Bookings answers upcoming first (soonest), then past (newest): split
    where a visit has ended."""
    upcoming = [b for b in bookings if b.ends_at is not None and b.ends_at > now]
    past = [b for b in bookings if b not in upcoming]
    return upcoming, past
