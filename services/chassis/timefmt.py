"""Dates and times for people, in the tenant's IANA time zone: one format for
a date, one for a moment, the same on pages, in emails and in PDFs.

    a date     "12 Mar 2026"
    a moment   "25 Nov 2025, 13:05 EST"   (the zone's abbreviation, so a
               reader in another zone knows whose clock it is)

Storage is UTC (`timestamptz`, `google.protobuf.Timestamp`); only display is
local. zoneinfo applies each instant's own offset, so a moment in summer time
reads "BST" and one in winter "GMT". An unknown or empty zone name falls back
to UTC rather than failing a page or an email. Pure: no clock is read here.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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
    return f"{at.day} {at:%b %Y, %H:%M} {at.tzname() or time_zone}"
