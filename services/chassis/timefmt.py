"""Dates and times for people, in the tenant's IANA time zone: one format for
a date, one for a moment, the same on pages, in emails and in PDFs.

    a date     "12 Mar 2026"
    a moment   "25 Nov 2025, 13:05 EST"   (the zone's abbreviation, so a
               reader in another zone knows whose clock it is; a zone with
               only a numeric one is named in words: "13:05 Dubai time")
    a zone     "New York time"  (never the raw IANA name "America/New_York")

Storage is UTC (`timestamptz`, `google.protobuf.Timestamp`); only display is
local. zoneinfo applies each instant's own offset, so a moment in summer time
reads "BST" and one in winter "GMT". An unknown or empty zone name falls back
to UTC rather than failing a page or an email. Pure: no clock is read here.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from google.protobuf.timestamp_pb2 import Timestamp

UNSET = "\u2014"  # an em dash: no moment


@cache
def zone(name: str | None) -> ZoneInfo:
    """The tenant's zone; UTC when unset or not a zone this machine knows."""
    try:
        return ZoneInfo(name) if name else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _moment(value: datetime | Timestamp | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, Timestamp):
        if value.seconds == 0 and value.nanos == 0:
            return None  # protobuf's unset timestamp
        return value.ToDatetime(tzinfo=UTC)
    if value.tzinfo is None:
        raise ValueError("a naive datetime has no instant; pass an aware one (UTC)")
    return value


def local(value: datetime | Timestamp, time_zone: str | None) -> datetime:
    """The instant on the tenant's clock."""
    moment = _moment(value)
    if moment is None:
        raise ValueError("no moment")
    return moment.astimezone(zone(time_zone))


def parse_day(value: str) -> date | None:
    """ "2026-03-12" -> date; empty or unreadable -> None."""
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def format_date(value: str | date | datetime | Timestamp | None, time_zone: str = "") -> str:
    """ "12 Mar 2026". Calendar dates (a planned start) are shown as they are;
    a moment is first put on the tenant's clock. Empty or unreadable -> ""."""
    if isinstance(value, str):
        value = parse_day(value)
    if isinstance(value, datetime | Timestamp):
        moment = _moment(value)
        value = moment.astimezone(zone(time_zone)).date() if moment else None
    return f"{value.day} {value:%b %Y}" if value else ""


def format_datetime(value: datetime | Timestamp | None, time_zone: str = "") -> str:
    """ "25 Nov 2025, 13:05 EST" on the tenant's clock; unset -> an em dash."""
    moment = _moment(value)
    if moment is None:
        return UNSET
    at = moment.astimezone(zone(time_zone))
    abbreviation = at.tzname() or ""
    # "+04" or "-03" (zones with no letters of their own) says little: the place does.
    if not abbreviation.isalpha():
        abbreviation = zone_words(time_zone)
    return f"{at.day} {at:%b %Y, %H:%M} {abbreviation}"


# -- zones for people -------------------------------------------------------------------

# The regions of the IANA database people live in; the rest are old aliases
# ("US/Eastern", "EST5EDT", "Etc/GMT+5") that a picker should not offer.
ZONE_REGIONS = (
    "Africa",
    "America",
    "Antarctica",
    "Arctic",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
)


def _place(name: str) -> str:
    """ "America/Argentina/Buenos_Aires" -> "Buenos Aires, Argentina"."""
    parts = [p.replace("_", " ") for p in name.split("/")[1:]]
    return ", ".join(reversed(parts)) if parts else name.replace("_", " ")


def zone_words(name: str | None) -> str:
    """A zone as a client reads it: "New York time", "UTC"; the raw IANA name never."""
    if not name or name in ("UTC", "Etc/UTC", "GMT", "Etc/GMT"):
        return "UTC"
    if name.split("/")[0] not in ZONE_REGIONS:
        return "local time"  # an alias such as "EST5EDT" reads as nothing better
    return f"{name.rsplit('/', 1)[-1].replace('_', ' ')} time"


def format_days_change(days: int | None) -> str:
    """A schedule impact in days, the same on pages and in the certificate:
    "+2 days", "-1 day", "No change"."""
    if not days:
        return "No change"
    return f"{'+' if days > 0 else ''}{days} day{'' if abs(days) == 1 else 's'}"


@cache
def zone_choices() -> tuple[tuple[str, tuple[tuple[str, str], ...]], ...]:
    """Every zone a tenant would pick, grouped by region for a <select>:
    (("America", (("America/New_York", "New York"), ...)), ..., ("Other", (("UTC", "UTC"),)))."""
    names = available_timezones()
    groups = []
    for region in ZONE_REGIONS:
        members = sorted(
            ((n, _place(n)) for n in names if n.startswith(region + "/")), key=lambda c: c[1]
        )
        if members:
            groups.append((region, tuple(members)))
    groups.append(("Other", (("UTC", "UTC"),)))
    return tuple(groups)
