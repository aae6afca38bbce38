"""What staff set up: technicians' hours, skills, home base and time off; the
integrator's service types and settings. Pure checks, each refusal naming the
field; the use cases store what these return."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from services.bookings.domain_slots import Rules, Stretch
from services.chassis.errors import InvalidArgument
from services.chassis.validation import bounded_int, multiline_text, require_text, single_line

SKILL = re.compile(r"[a-z0-9][a-z0-9 \-]{0,39}")
MAX_SKILLS = 20
MAX_STRETCHES = 28
DAY_MINUTES = 24 * 60
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def check_skills(values: Sequence[str], *, field: str = "skills") -> list[str]:
    """Lower-case words ("networking", "cinema calibration"), each once."""
    skills = sorted({" ".join(v.lower().split()) for v in values if v.strip()})
    if len(skills) > MAX_SKILLS:
        raise InvalidArgument(f"at most {MAX_SKILLS} skills", field=field)
    for skill in skills:
        if not SKILL.fullmatch(skill):
            raise InvalidArgument(
                f"a skill is up to 40 letters, digits, spaces or dashes: {skill[:40]!r}",
                field=field,
            )
    return skills


def parse_wall_time(value: str, *, field: str) -> time:
    try:
        hours, minutes = value.split(":")
        if len(hours) != 2 or len(minutes) != 2:
            raise ValueError
        return time(int(hours), int(minutes))
    except ValueError:
        raise InvalidArgument(f"{field} must be a time as HH:MM", field=field) from None


def check_hours(
    rows: Sequence[tuple[int, str, str]], *, field: str = "working_hours"
) -> list[dict]:
    """Weekly stretches (ISO weekday, "HH:MM", "HH:MM"), none overlapping
    another on its day; stored as given, read by `stretches_of`."""
    if len(rows) > MAX_STRETCHES:
        raise InvalidArgument(f"at most {MAX_STRETCHES} stretches a week", field=field)
    parsed = []
    for i, (weekday, start, end) in enumerate(rows):
        where = f"{field}[{i}]"
        bounded_int(weekday, field=f"{where}.weekday", low=1, high=7)
        s = parse_wall_time(start, field=f"{where}.start")
        e = parse_wall_time(end, field=f"{where}.end")
        if e <= s:
            raise InvalidArgument(
                f"on {WEEKDAYS[weekday - 1]} the end must be after the start", field=f"{where}.end"
            )
        parsed.append((weekday, s, e, where))
    parsed.sort()
    for (d1, _, e1, _), (d2, s2, _, where) in pairwise(parsed):
        if d1 == d2 and s2 < e1:
            raise InvalidArgument(
                f"two stretches overlap on {WEEKDAYS[d1 - 1]}", field=f"{where}.start"
            )
    return [
        {"weekday": d, "start": s.strftime("%H:%M"), "end": e.strftime("%H:%M")}
        for d, s, e, _ in parsed
    ]


def stretches_of(rows: Sequence[Mapping[str, Any]]) -> tuple[Stretch, ...]:
    return tuple(
        Stretch(
            int(r["weekday"]),
            time.fromisoformat(str(r["start"])),
            time.fromisoformat(str(r["end"])),
        )
        for r in rows
    )


def check_coordinates(
    latitude: float, longitude: float, *, prefix: str = ""
) -> tuple[float, float]:
    if not -90 <= latitude <= 90:
        raise InvalidArgument("latitude must be between -90 and 90", field=f"{prefix}latitude")
    if not -180 <= longitude <= 180:
        raise InvalidArgument("longitude must be between -180 and 180", field=f"{prefix}longitude")
    return latitude, longitude


def check_time_off(
    starts_at: datetime | None, ends_at: datetime | None, reason: str
) -> tuple[datetime, datetime, str]:
    if starts_at is None:
        raise InvalidArgument("starts at is required", field="starts_at")
    if ends_at is None or ends_at <= starts_at:
        raise InvalidArgument("time off must end after it starts", field="ends_at")
    if ends_at - starts_at > timedelta(days=366):
        raise InvalidArgument("time off is at most a year at a time", field="ends_at")
    return starts_at, ends_at, single_line(reason, field="reason", max_len=200)


def check_time_zone(name: str, *, field: str = "time_zone") -> str:
    try:
        return ZoneInfo(name).key if name else "UTC"
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidArgument(
            f"{name[:64]!r} is not a time zone; use an IANA name like Europe/London", field=field
        ) from None


# -- service types -----------------------------------------------------------------------

# (field, low, high, unit): minutes unless said.
SERVICE_TYPE_BOUNDS: tuple[tuple[str, int, int, str], ...] = (
    ("duration_minutes", 5, 12 * 60, "minutes"),
    ("step_minutes", 0, 12 * 60, "minutes"),
    ("buffer_before_minutes", 0, 4 * 60, "minutes"),
    ("buffer_after_minutes", 0, 4 * 60, "minutes"),
    ("min_notice_minutes", 0, 60 * DAY_MINUTES, "minutes"),
    ("horizon_days", 1, 365, "days"),
    ("cancel_cutoff_minutes", 0, 30 * DAY_MINUTES, "minutes"),
    ("reschedule_cutoff_minutes", 0, 30 * DAY_MINUTES, "minutes"),
)
SERVICE_TYPE_FIELDS = (
    "name",
    "description",
    *(b[0] for b in SERVICE_TYPE_BOUNDS),
    "skills",
    "requires_confirmation",
    "allow_service_contract",
    "allow_after_handover",
    "active",
)


@dataclass(frozen=True)
class ServiceTypeSpec:
    name: str
    duration_minutes: int
    description: str = ""
    step_minutes: int = 0
    buffer_before_minutes: int = 0
    buffer_after_minutes: int = 0
    min_notice_minutes: int = 24 * 60
    horizon_days: int = 30
    cancel_cutoff_minutes: int = 24 * 60
    reschedule_cutoff_minutes: int = 24 * 60
    skills: tuple[str, ...] = ()
    requires_confirmation: bool = False
    allow_service_contract: bool = True
    allow_after_handover: bool = True
    active: bool = True


def check_service_type(values: Mapping[str, Any]) -> ServiceTypeSpec:
    """A whole service type, checked: every bound named, steps and durations in
    whole 5 minutes (so slots fall on round times), someone allowed to book."""
    out: dict[str, Any] = {
        "name": require_text(str(values.get("name", "")), field="name", max_len=100),
        "description": multiline_text(
            str(values.get("description", "")), field="description", max_len=1000
        ),
        "skills": tuple(check_skills(list(values.get("skills", ())))),
    }
    for name, low, high, unit in SERVICE_TYPE_BOUNDS:
        value = int(values.get(name, getattr(ServiceTypeSpec, name, 0)))
        out[name] = bounded_int(value, field=name, low=low, high=high, unit=unit)
    for name in (
        "duration_minutes",
        "step_minutes",
        "buffer_before_minutes",
        "buffer_after_minutes",
    ):
        if out[name] % 5:
            raise InvalidArgument(f"{name.replace('_', ' ')} must be whole 5 minutes", field=name)
    for flag in ("requires_confirmation", "allow_service_contract", "allow_after_handover"):
        out[flag] = bool(values.get(flag, getattr(ServiceTypeSpec, flag)))
    out["active"] = bool(values.get("active", True))
    if not (out["allow_service_contract"] or out["allow_after_handover"]):
        raise InvalidArgument(
            "say who may book: customers with a service contract, after handover, or both",
            field="allow_service_contract",
        )
    return ServiceTypeSpec(**out)


def rules_of(spec: ServiceTypeSpec, *, for_client: bool) -> Rules:
    """The slot rules of a service type. Staff book for a customer on the
    phone: notice and horizon hold clients only."""
    duration = timedelta(minutes=spec.duration_minutes)
    return Rules(
        duration=duration,
        step=timedelta(minutes=spec.step_minutes) if spec.step_minutes else duration,
        buffer_before=timedelta(minutes=spec.buffer_before_minutes),
        buffer_after=timedelta(minutes=spec.buffer_after_minutes),
        notice=timedelta(minutes=spec.min_notice_minutes) if for_client else timedelta(0),
        horizon=timedelta(days=spec.horizon_days if for_client else 365),
        skills=frozenset(spec.skills),
    )


def check_settings(time_zone: str, default_travel_minutes: int) -> tuple[str, int]:
    return (
        check_time_zone(time_zone),
        bounded_int(
            default_travel_minutes,
            field="default_travel_minutes",
            low=0,
            high=240,
            unit="minutes",
        ),
    )
