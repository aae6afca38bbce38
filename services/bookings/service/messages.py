"""Rows -> the protobuf messages events carry and the gRPC layer answers
with (one translation for both, so an event and an answer never disagree).
What the caller may see was decided before these are called."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from google.protobuf.timestamp_pb2 import Timestamp
from portal.bookings.v1 import bookings_pb2 as pb

from services.bookings.models import Booking, Technician, WorkOrder
from services.chassis import enums


def ts(value: datetime | None) -> Timestamp | None:
    if value is None:
        return None
    out = Timestamp()
    out.FromDatetime(value)
    return out


@dataclass(frozen=True)
class WorkOrderView:
    work_order: WorkOrder
    technician_ids: tuple[str, ...]
    project_name: str = ""


@dataclass(frozen=True)
class BookingView:
    booking: Booking
    work_order: WorkOrder
    technician: Technician | None
    project_name: str = ""
    can_reschedule: bool = False
    can_cancel: bool = False


def products_pb(rows: list[dict]) -> list[pb.Product]:
    return [
        pb.Product(
            line_id=str(p.get("line_id", "")),
            manufacturer=str(p.get("manufacturer", "")),
            model=str(p.get("model", "")),
        )
        for p in rows
    ]


def work_order_pb(view: WorkOrderView) -> pb.WorkOrder:
    w = view.work_order
    return pb.WorkOrder(
        id=str(w.id),
        kind=enums.value(pb.WorkOrderKind, w.kind),  # type: ignore[arg-type]
        status=enums.value(pb.WorkOrderStatus, w.status),  # type: ignore[arg-type]
        project_id=str(w.project_id),
        customer_id=str(w.customer_id),
        booking_id=str(w.booking_id) if w.booking_id else "",
        title=w.title,
        room_id=w.room_id,
        room_name=w.room_name,
        products=products_pb(w.products),
        tasks=list(w.tasks),
        description=w.description,
        photo_document_ids=list(w.photo_document_ids),
        starts_at=ts(w.starts_at),
        ends_at=ts(w.ends_at),
        buffer_before_minutes=w.buffer_before_minutes,
        buffer_after_minutes=w.buffer_after_minutes,
        technician_ids=list(view.technician_ids),
        conflict=w.conflict,
        sequence=w.sequence,
        project_name=view.project_name,
    )


def booking_pb(view: BookingView) -> pb.Booking:
    b, w, tech = view.booking, view.work_order, view.technician
    return pb.Booking(
        id=str(b.id),
        project_id=str(b.project_id),
        customer_id=str(b.customer_id),
        service_type_id=str(b.service_type_id),
        service_type_name=b.service_type_name,
        status=enums.value(pb.BookingStatus, b.status),  # type: ignore[arg-type]
        starts_at=ts(b.starts_at),
        ends_at=ts(b.ends_at),
        time_zone=b.time_zone,
        work_order_id=str(b.work_order_id),
        technician_id=str(tech.staff_user_id) if tech else "",
        technician_name=tech.full_name if tech else "",
        room_id=w.room_id,
        room_name=w.room_name,
        products=products_pb(w.products),
        description=w.description,
        photo_document_ids=list(w.photo_document_ids),
        sequence=b.sequence,
        booked_by=b.booked_by,
        created_at=ts(b.created_at),
        cancelled_at=ts(b.cancelled_at),
        cancel_reason=b.cancel_reason,
        project_name=view.project_name,
        can_reschedule=view.can_reschedule,
        can_cancel=view.can_cancel,
    )
