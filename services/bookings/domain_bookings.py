"""Bookings and work orders: who may book, what a client may still change,
the state machines. Pure: `now` is passed in."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from services.chassis.errors import (
    Conflict,
    DomainError,
    InvalidArgument,
    InvalidTransition,
)
from services.chassis.validation import multiline_text, parse_uuid, require_text, single_line

MAX_PHOTOS = 10
MAX_PRODUCTS = 20
MAX_TASKS = 50
MAX_TECHNICIANS = 6
HANDOVER = "handover"


class BookingStatus(enum.StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"


class WorkOrderKind(enum.StrEnum):
    INSTALL = "install"
    SERVICE = "service"


class WorkOrderStatus(enum.StrEnum):
    PENDING = "pending"
    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


# A work order in these holds its technicians' time (the exclusion constraint's predicate).
ACTIVE = frozenset(
    {WorkOrderStatus.PENDING, WorkOrderStatus.SCHEDULED, WorkOrderStatus.IN_PROGRESS}
)


def technician_busy(
    name: str, starts_at: datetime, ends_at: datetime, *, on: datetime, tz: ZoneInfo
) -> SlotTaken:
    """The refusal dispatch reads when a technician already has a visit then:
    "Tom is already booked 10:00-12:00 on that day" (their other visit, on the
    tenant's clock; its date when it began another day)."""
    start, end = starts_at.astimezone(tz), ends_at.astimezone(tz)
    day = (
        "on that day"
        if start.date() == on.astimezone(tz).date()
        else f"from {start.day} {start:%b}"
    )
    return SlotTaken(
        f"{name} is already booked {start:%H:%M}-{end:%H:%M} {day}; "
        "pick another time or technician",
        field="technician_ids",
    )


WORK_ORDER_MOVES: dict[WorkOrderStatus, frozenset[WorkOrderStatus]] = {
    WorkOrderStatus.PENDING: frozenset({WorkOrderStatus.SCHEDULED, WorkOrderStatus.CANCELLED}),
    WorkOrderStatus.SCHEDULED: frozenset(
        {WorkOrderStatus.IN_PROGRESS, WorkOrderStatus.COMPLETED, WorkOrderStatus.CANCELLED}
    ),
    WorkOrderStatus.IN_PROGRESS: frozenset({WorkOrderStatus.COMPLETED, WorkOrderStatus.SCHEDULED}),
    WorkOrderStatus.COMPLETED: frozenset(),
    WorkOrderStatus.CANCELLED: frozenset(),
}


class SlotTaken(Conflict):
    """Two people raced for the last free technician: the other one won."""

    code = "slot_taken"

    def __init__(self, message: str = "", *, field: str | None = "starts_at") -> None:
        super().__init__(
            message
            or "that time was just taken by another booking; please pick another time "
            "from the fresh list",
            field=field,
        )


class NotBookable(DomainError):
    code = "not_bookable"


class PastCutoff(DomainError):
    code = "past_cutoff"


@dataclass(frozen=True)
class ProjectFacts:
    """What projects told us about a project (bookings' copy)."""

    stage: str
    service_contract: bool


def may_book(
    facts: ProjectFacts | None, *, allow_service_contract: bool, allow_after_handover: bool
) -> None:
    """The integrator's rule for a service type: a service contract, the
    project handed over, or either."""
    if facts is not None:
        if allow_service_contract and facts.service_contract:
            return
        if allow_after_handover and facts.stage == HANDOVER:
            return
    if allow_service_contract and allow_after_handover:
        need = "once your project is handed over, or with a service contract"
    elif allow_service_contract:
        need = "with a service contract"
    else:
        need = "once your project is handed over"
    raise NotBookable(
        f"this visit can be booked {need}; please contact us to arrange it", field="project_id"
    )


def check_cutoff(
    action: str, *, starts_at: datetime, now: datetime, cutoff: timedelta, by_client: bool
) -> None:
    """A client changes a visit only until its cut-off; staff any time."""
    if not by_client:
        return
    if starts_at - now < cutoff:
        hours = int(cutoff.total_seconds() // 3600)
        when = f"{hours} hours" if hours else f"{int(cutoff.total_seconds() // 60)} minutes"
        raise PastCutoff(
            f"a visit can be {action} online up to {when} before it starts; "
            "please contact us to change it now",
            field="booking_id",
        )


def may_still(action: str, *, starts_at: datetime, now: datetime, cutoff: timedelta) -> bool:
    try:
        check_cutoff(action, starts_at=starts_at, now=now, cutoff=cutoff, by_client=True)
    except PastCutoff:
        return False
    return True


def check_open(status: BookingStatus, action: str) -> None:
    if status == BookingStatus.CANCELLED:
        raise InvalidTransition(f"this visit was cancelled and cannot be {action}")


def check_confirm(status: BookingStatus) -> None:
    if status != BookingStatus.PENDING:
        raise InvalidTransition(f"only a pending booking can be confirmed; this one is {status}")


def status_after_booking(requires_confirmation: bool) -> BookingStatus:
    return BookingStatus.PENDING if requires_confirmation else BookingStatus.CONFIRMED


def status_after_reschedule(
    status: BookingStatus, *, requires_confirmation: bool, by_client: bool
) -> BookingStatus:
    """A client's move of a visit staff must confirm waits for them again."""
    if by_client and requires_confirmation:
        return BookingStatus.PENDING
    return status


def work_order_status_for(status: BookingStatus) -> WorkOrderStatus:
    return {
        BookingStatus.PENDING: WorkOrderStatus.PENDING,
        BookingStatus.CONFIRMED: WorkOrderStatus.SCHEDULED,
        BookingStatus.CANCELLED: WorkOrderStatus.CANCELLED,
    }[status]


def check_work_order_move(current: WorkOrderStatus, target: WorkOrderStatus) -> None:
    if target != current and target not in WORK_ORDER_MOVES[current]:
        raise InvalidTransition(
            f"a {current.replace('_', ' ')} work order cannot become {target.replace('_', ' ')}",
            field="status",
        )


@dataclass(frozen=True)
class VisitRequest:
    room_id: str
    product_line_ids: tuple[str, ...]
    description: str
    photo_document_ids: tuple[str, ...]


def check_visit_request(
    *, room_id: str, product_line_ids: Sequence[str], description: str, photos: Sequence[str]
) -> VisitRequest:
    """What the client says is wrong: a room (or none: something else), some
    of its products, words, up to ten photos already in the project's documents."""
    room = single_line(room_id, field="room_id", max_len=100)
    if room:
        parse_uuid(room, field="room_id")
    lines = tuple(dict.fromkeys(x.strip() for x in product_line_ids if x.strip()))
    if lines and not room:
        raise InvalidArgument("pick the room the products are in", field="room_id")
    if len(lines) > MAX_PRODUCTS:
        raise InvalidArgument(f"at most {MAX_PRODUCTS} products", field="product_line_ids")
    for line in lines:
        parse_uuid(line, field="product_line_ids")
    text = multiline_text(description, field="description", max_len=2000, required=True)
    pics = tuple(dict.fromkeys(p.strip() for p in photos if p.strip()))
    if len(pics) > MAX_PHOTOS:
        raise InvalidArgument(f"at most {MAX_PHOTOS} photos", field="photo_document_ids")
    for pic in pics:
        parse_uuid(pic, field="photo_document_ids")
    return VisitRequest(room, lines, text, pics)


def check_window(starts_at: datetime | None, ends_at: datetime | None) -> tuple[datetime, datetime]:
    if starts_at is None:
        raise InvalidArgument("starts at is required", field="starts_at")
    if ends_at is None or ends_at <= starts_at:
        raise InvalidArgument("a work order must end after it starts", field="ends_at")
    if ends_at - starts_at > timedelta(days=14):
        raise InvalidArgument("a work order is at most 14 days long", field="ends_at")
    return starts_at, ends_at


def check_tasks(tasks: Sequence[str]) -> list[str]:
    out = [single_line(t, field="tasks", max_len=300) for t in tasks]
    out = [t for t in out if t]
    if len(out) > MAX_TASKS:
        raise InvalidArgument(f"at most {MAX_TASKS} tasks", field="tasks")
    return out


def check_technicians(ids: Sequence[str]) -> list[str]:
    unique = list(dict.fromkeys(i.strip() for i in ids if i.strip()))
    if len(unique) > MAX_TECHNICIANS:
        raise InvalidArgument(f"at most {MAX_TECHNICIANS} technicians", field="technician_ids")
    for tid in unique:
        parse_uuid(tid, field="technician_ids")
    return unique


def check_title(value: str) -> str:
    return require_text(value, field="title", max_len=200)
