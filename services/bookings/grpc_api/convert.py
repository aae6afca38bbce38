"""Models and service results -> protobuf messages, and the request values
the service layer takes. No decisions here: what a caller may see was
decided by the service layer."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from google.protobuf.timestamp_pb2 import Timestamp
from portal.bookings.v1 import bookings_pb2 as pb

from services.bookings.models import BookingSettings, ServiceType, Technician, TimeOff
from services.bookings.service.availability import Bookable, SlotList
from services.bookings.service.messages import booking_pb, ts, work_order_pb
from services.chassis import enums
from services.chassis.errors import InvalidArgument

__all__ = [
    "bookable_pb",
    "booking_pb",
    "moment",
    "service_type_pb",
    "settings_pb",
    "slots_pb",
    "technician_pb",
    "time_off_pb",
    "work_order_pb",
]


def moment(value: Timestamp, *, field: str, required: bool = False) -> datetime | None:
    """A protobuf timestamp as an aware UTC datetime; unset is None."""
    if value.seconds == 0 and value.nanos == 0:
        if required:
            raise InvalidArgument(f"{field.replace('_', ' ')} is required", field=field)
        return None
    return value.ToDatetime(tzinfo=UTC)


def technician_pb(t: Technician) -> pb.Technician:
    coords = t.home_latitude is not None and t.home_longitude is not None
    return pb.Technician(
        staff_user_id=str(t.staff_user_id),
        full_name=t.full_name,
        email=t.email,
        active=t.active,
        skills=list(t.skills),
        home_base=t.home_base,
        home_latitude=t.home_latitude or 0.0,
        home_longitude=t.home_longitude or 0.0,
        has_home_coordinates=coords,
        working_hours=[
            pb.WorkingHours(weekday=int(h["weekday"]), start=str(h["start"]), end=str(h["end"]))
            for h in t.working_hours
        ],
        has_feed=t.feed_token_sha256 is not None,
    )


def time_off_pb(t: TimeOff) -> pb.TimeOff:
    return pb.TimeOff(
        id=str(t.id),
        technician_id=str(t.technician_id),
        starts_at=ts(t.starts_at),
        ends_at=ts(t.ends_at),
        reason=t.reason,
    )


def settings_pb(s: BookingSettings) -> pb.BookingSettings:
    return pb.BookingSettings(
        time_zone=s.time_zone, default_travel_minutes=s.default_travel_minutes
    )


def service_type_pb(s: ServiceType) -> pb.ServiceType:
    return pb.ServiceType(
        id=str(s.id),
        name=s.name,
        description=s.description,
        duration_minutes=s.duration_minutes,
        step_minutes=s.step_minutes,
        skills=list(s.skills),
        buffer_before_minutes=s.buffer_before_minutes,
        buffer_after_minutes=s.buffer_after_minutes,
        min_notice_minutes=s.min_notice_minutes,
        horizon_days=s.horizon_days,
        cancel_cutoff_minutes=s.cancel_cutoff_minutes,
        reschedule_cutoff_minutes=s.reschedule_cutoff_minutes,
        requires_confirmation=s.requires_confirmation,
        allow_service_contract=s.allow_service_contract,
        allow_after_handover=s.allow_after_handover,
        active=s.active,
    )


# "HH:MM" for every minute of a day: a slot's local time is read, not formatted.
_CLOCK = [f"{m // 60:02d}:{m % 60:02d}" for m in range(24 * 60)]


def slots_pb(found: SlotList, zone: ZoneInfo, *, time_zone: str) -> pb.ListSlotsResponse:
    # A month's answer is hundreds of slots: each filled in place in the
    # answer (a list of messages handed over is copied), whole seconds
    # straight into the Timestamps (slots start on 5-minute marks), and the
    # zone asked once an hour of starts: when the clock reads the same offset
    # at an hour's start and end, it holds for the starts between. The local
    # date is formatted once a day and the time looked up: no datetime a slot.
    answer = pb.ListSlotsResponse(time_zone=time_zone)
    add = answer.slots.add
    offsets: dict[int, int | None] = {}
    dates: dict[int, str] = {}
    duration = found.duration
    for start in found.starts:
        hour = start - start % 3600
        if hour not in offsets:
            first, last = _offset(hour, zone), _offset(hour + 3600, zone)
            offsets[hour] = first if first == last else None
        offset = offsets[hour]
        local = start + (offset if offset is not None else _offset(start, zone))
        day, second = divmod(local, 86400)
        if (local_date := dates.get(day)) is None:
            local_date = dates[day] = datetime.fromtimestamp(day * 86400, UTC).date().isoformat()
        slot = add(local_date=local_date, local_time=_CLOCK[second // 60])
        slot.starts_at.seconds = start
        slot.ends_at.seconds = start + duration
    return answer


def _offset(at: int, zone: ZoneInfo) -> int:
    delta = datetime.fromtimestamp(at, zone).utcoffset()
    return int(delta.total_seconds()) if delta is not None else 0


def bookable_pb(b: Bookable) -> pb.BookableProject:
    return pb.BookableProject(
        project_id=str(b.fact.project_id),
        name=b.fact.name,
        reference=b.fact.reference,
        service_contract=b.fact.service_contract,
        past_handover=b.past_handover,
    )


def status_name(value: int) -> str:
    name = enums.known_name(pb.WorkOrderStatus, value)
    if not name:
        raise InvalidArgument("status must be a work order status", field="status")
    return name
