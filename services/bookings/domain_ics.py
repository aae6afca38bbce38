"""Visits as iCalendar (RFC 5545), with the icalendar library. Pure: the time
of writing (DTSTAMP) is passed in.

- The UID of a visit never changes and SEQUENCE grows with every change, so a
  calendar app updates the event it holds instead of adding a second one.
- Start and end are written on the site's clock with TZID and the zone's
  VTIMEZONE (the day and time the client picked stay what they picked), but
  for the second run of a repeated hour, which TZID cannot name; the stamps
  are UTC.
- METHOD:PUBLISH, also for a cancellation (STATUS:CANCELLED, SEQUENCE up):
  iTIP's REQUEST and CANCEL need an ORGANIZER and ATTENDEEs who answer, and a
  portal visit is not an invitation to reply to.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

PRODID = "-//Integrator Portal//Bookings//EN"
UID_DOMAIN = "bookings.integrator-portal"
MARGIN = timedelta(days=400)


@dataclass(frozen=True)
class Visit:
    uid: str
    sequence: int
    summary: str
    starts_at: datetime
    ends_at: datetime
    time_zone: str
    description: str = ""
    location: str = ""
    cancelled: bool = False
    tentative: bool = False


def uid_for(kind: str, record_id: str) -> str:
    """Stable per record: `booking-<id>@...` for the client's copy,
    `work-order-<id>@...` for the technician's."""
    return f"{kind}-{record_id}@{UID_DOMAIN}"


def on_clock(moment: datetime, zone: ZoneInfo) -> datetime:
    """The moment on the site's clock (written with TZID), unless the clock
    shows that time twice and this is the second: a TZID time reads as the
    first occurrence (RFC 5545 3.3.5), so that one is written in UTC."""
    local = moment.astimezone(zone)
    if local.replace(fold=0).astimezone(UTC) != moment.astimezone(UTC):
        return moment.astimezone(UTC)
    return local


def _status(visit: Visit) -> str:
    if visit.cancelled:
        return "CANCELLED"
    return "TENTATIVE" if visit.tentative else "CONFIRMED"


def _event(visit: Visit, stamp: datetime) -> Event:
    zone = ZoneInfo(visit.time_zone)
    event = Event()
    event.add("uid", visit.uid)
    event.add("sequence", visit.sequence)
    event.add("dtstamp", stamp.astimezone(UTC))
    event.add("dtstart", on_clock(visit.starts_at, zone))
    event.add("dtend", on_clock(visit.ends_at, zone))
    event.add("summary", visit.summary)
    event.add("status", _status(visit))
    if visit.description:
        event.add("description", visit.description)
    if visit.location:
        event.add("location", visit.location)
    return event


def _calendar(visits: Sequence[Visit], stamp: datetime, *, name: str = "") -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    if name:
        calendar.add("x-wr-calname", name)
    for visit in visits:
        calendar.add_component(_event(visit, stamp))
    if visits:
        # The zones' rules around these visits only: a VTIMEZONE from 1970 is long.
        first = min(v.starts_at for v in visits) - MARGIN
        last = max(v.ends_at for v in visits) + MARGIN
        calendar.add_missing_timezones(first_date=first.date(), last_date=last.date())
    return calendar


def visit_ics(visit: Visit, *, stamp: datetime) -> bytes:
    """One visit, as attached to its email and downloaded from the booking."""
    return _calendar([visit], stamp).to_ical()


def feed_ics(name: str, visits: Sequence[Visit], *, stamp: datetime) -> bytes:
    """A technician's calendar subscription: every visit in it, cancelled ones
    kept (STATUS:CANCELLED) so a subscribed app drops what it had."""
    return _calendar(visits, stamp, name=name).to_ical()
