"""What the dispatch pages show, from bookings' answers: the day's lanes
(one per technician, plus what no one is on), each visit on the booking
zone's clock with its customer, products, room and status, and the lists
that need someone's attention. Pure: no calls, no clock. Nothing is decided
here; a conflict is what bookings flagged."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID

from gateway.api.bookings.dispatch_shapes import Technician, TimeOff, WorkOrder
from services.chassis.timefmt import zone

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
STATUS_LABELS = {
    "pending": "Waiting for confirmation",
    "scheduled": "Scheduled",
    "in_progress": "In progress",
    "completed": "Completed",
    "cancelled": "Cancelled",
}
# The moves dispatch may ask for; bookings refuses what its state machine does not allow.
STATUS_CHOICES = ("scheduled", "in_progress", "completed", "cancelled")


def day_window(day: date, time_zone: str) -> tuple[datetime, datetime]:
    """[midnight, next midnight) of `day` on the zone's clock, as instants
    (23 or 25 hours long across a DST change)."""
    tz = zone(time_zone)
    start = datetime.combine(day, time(0), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    # In UTC: Python subtracts two times of one zone on the wall clock.
    return start.astimezone(UTC), end.astimezone(UTC)


def week_of(day: date) -> list[date]:
    monday = day - timedelta(days=day.weekday())
    return [monday + timedelta(days=i) for i in range(7)]


def wall_time(day: str, clock: str, time_zone: str) -> datetime:
    """The instant a person means by a date and "HH:MM" on the zone's clock
    (in a repeated hour, the first; in a skipped one, as if the clock had not
    changed: RFC 5545's reading). ValueError with a sentence if unreadable."""
    try:
        on = date.fromisoformat(day)
        at = time.fromisoformat(clock)
    except ValueError:
        raise ValueError("Give the date as 2026-03-12 and the time as 09:30.") from None
    return datetime.combine(on, at.replace(second=0, microsecond=0), tzinfo=zone(time_zone))


@dataclass(frozen=True)
class Visit:
    """One work order as the calendar shows it."""

    order: WorkOrder
    customer: str
    technicians: str
    day: str  # YYYY-MM-DD on the zone's clock, for the move form
    starts: str  # HH:MM
    ends: str
    spans_days: bool

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.order.status, self.order.status)

    @property
    def products(self) -> str:
        return ", ".join(
            " ".join(x for x in (p.manufacturer, p.model) if x) for p in self.order.products
        )

    @property
    def what(self) -> str:
        return self.order.title or self.order.description[:80] or "Visit"


@dataclass
class Lane:
    """A technician's day (or week): their hours, time off and visits."""

    technician: Technician | None  # None: nobody assigned yet
    hours: str
    time_off: list[str] = field(default_factory=list)
    visits: list[Visit] = field(default_factory=list)
    works: bool = False  # has working hours that day

    @property
    def empty_words(self) -> str:
        """A day with nothing on it: "free" only if there is time to book."""
        return "Free all day." if self.works and not self.time_off else "Nothing booked."


@dataclass(frozen=True)
class Calendar:
    lanes: list[Lane]
    unassigned: list[Visit]
    pending: list[Visit]
    conflicts: list[Visit]


def visit_of(
    order: WorkOrder, *, customers: Mapping[str, str], names: Mapping[UUID, str], time_zone: str
) -> Visit:
    tz = zone(time_zone)
    starts = order.starts_at.astimezone(tz) if order.starts_at else None
    ends = order.ends_at.astimezone(tz) if order.ends_at else None
    return Visit(
        order=order,
        customer=customers.get(str(order.customer_id), "") if order.customer_id else "",
        technicians=", ".join(names.get(t, "a former technician") for t in order.technician_ids),
        day=starts.date().isoformat() if starts else "",
        starts=f"{starts:%H:%M}" if starts else "",
        ends=f"{ends:%H:%M}" if ends else "",
        spans_days=bool(starts and ends and starts.date() != ends.date()),
    )


def _stretches_on(technician: Technician, day: date) -> list[str]:
    return sorted(
        f"{h.start}-{h.end}" for h in technician.working_hours if h.weekday == day.isoweekday()
    )


def hours_on(technician: Technician, day: date) -> str:
    """ "09:00-12:00, 13:00-17:00", or "Not working"."""
    return ", ".join(_stretches_on(technician, day)) or "Not working"


def hours_text(technician: Technician) -> dict[int, str]:
    """Each weekday's stretches as the hours form shows them: {1: "09:00-17:00"}."""
    out: dict[int, list[str]] = {d: [] for d in range(1, 8)}
    for h in technician.working_hours:
        out.setdefault(h.weekday, []).append(f"{h.start}-{h.end}")
    return {d: ", ".join(sorted(v)) for d, v in out.items()}


def parse_hours(text: str, weekday: int) -> list[tuple[int, str, str]]:
    """ "09:00-12:00, 13:00-17:00" -> stretches; ValueError with a sentence.
    Whether they overlap or fit a day is bookings' to say."""
    stretches = []
    for part in (p.strip() for p in text.replace(";", ",").split(",")):
        if not part:
            continue
        start, sep, end = (s.strip() for s in part.partition("-"))
        if not sep or not _clock(start) or not _clock(end):
            raise ValueError(
                f"Write {WEEKDAYS[weekday - 1]}'s hours as 09:00-17:00 "
                "(several stretches separated by commas), or leave it empty."
            )
        stretches.append((weekday, start, end))
    return stretches


def _clock(value: str) -> bool:
    try:
        time.fromisoformat(value)
    except ValueError:
        return False
    return len(value) == 5


def calendar(
    orders: Sequence[WorkOrder],
    technicians: Sequence[Technician],
    time_off: Sequence[TimeOff],
    *,
    customers: Mapping[str, str],
    time_zone: str,
    day: date,
) -> Calendar:
    """The day by technician: a lane for each active technician (and for a
    former one still holding a visit), then the visits no one is on yet."""
    names = {t.staff_user_id: t.full_name for t in technicians}
    visits = [visit_of(o, customers=customers, names=names, time_zone=time_zone) for o in orders]
    lanes = {
        t.staff_user_id: Lane(t, hours_on(t, day), works=bool(_stretches_on(t, day)))
        for t in technicians
        if t.active
    }
    tz = zone(time_zone)
    for off in time_off:
        lane = lanes.get(off.technician_id)
        if lane is not None and off.starts_at and off.ends_at:
            starts, ends = off.starts_at.astimezone(tz), off.ends_at.astimezone(tz)
            span = f"{starts:%d %b %H:%M} to {ends:%d %b %H:%M}"
            lane.time_off.append(f"Off {span}" + (f" ({off.reason})" if off.reason else ""))
    unassigned = []
    for visit in visits:
        if not visit.order.technician_ids:
            unassigned.append(visit)
        for tid in visit.order.technician_ids:
            if tid not in lanes:
                tech = next((t for t in technicians if t.staff_user_id == tid), None)
                lanes[tid] = Lane(tech, "No longer a technician")
            lanes[tid].visits.append(visit)
    return Calendar(
        lanes=sorted(lanes.values(), key=lambda lane: _name(lane).lower()),
        unassigned=unassigned,
        pending=[v for v in visits if v.order.status == "pending"],
        conflicts=[v for v in visits if v.order.conflict],
    )


def _name(lane: Lane) -> str:
    return lane.technician.full_name if lane.technician else ""


def week_by_day(
    orders: Sequence[WorkOrder],
    technicians: Sequence[Technician],
    *,
    customers: Mapping[str, str],
    time_zone: str,
    days: Sequence[date],
) -> list[tuple[date, list[Visit]]]:
    """One technician's week: each day's visits, soonest first."""
    names = {t.staff_user_id: t.full_name for t in technicians}
    visits = [visit_of(o, customers=customers, names=names, time_zone=time_zone) for o in orders]
    return [(d, [v for v in visits if v.day == d.isoformat()]) for d in days]
