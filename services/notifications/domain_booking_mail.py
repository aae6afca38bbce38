"""What booking emails say, and the invitation they carry. Pure: bookings
wrote the visit's .ics (its UID, SEQUENCE, times on the site's clock);
here it only becomes an iTIP message for one recipient.

Why REQUEST / CANCEL and not the PUBLISH of the feed and the download: mail
clients (Gmail, Outlook, Apple Mail) update or remove an event they already
hold from an emailed REQUEST or CANCEL with the same UID and a higher
SEQUENCE; a PUBLISH attachment is offered as a new import, so a moved visit
would sit twice in the calendar. iTIP needs an ORGANIZER and the recipient as
ATTENDEE; RSVP=FALSE and PARTSTAT=ACCEPTED because a portal visit is booked,
not proposed: nobody is asked to answer.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from icalendar import Calendar, vCalAddress, vText

from services.chassis import timefmt
from services.notifications.domain import Attachment, Brand, Message, Recipient

ICS_FILENAME = "visit.ics"
# When the tenant has no support address: the organizer iTIP requires, at no
# real mailbox (RSVP=FALSE: no calendar app sends a reply).
FALLBACK_ORGANIZER = "no-reply@bookings.integrator-portal"


class Method(enum.Enum):
    REQUEST = "REQUEST"
    CANCEL = "CANCEL"


class NotACalendar(ValueError):
    """The event's .ics does not parse: the mail goes without it."""


def invitation(ics: bytes, *, method: Method, brand: Brand, attendee: Recipient) -> Attachment:
    """The visit bookings wrote, as an iTIP REQUEST or CANCEL to this one
    attendee: UID, SEQUENCE, DTSTART/DTEND and the VTIMEZONE left as written."""
    try:
        calendar = Calendar.from_ical(ics)
    except ValueError as exc:
        raise NotACalendar(str(exc)) from exc
    calendar.pop("METHOD", None)
    calendar.add("method", method.value)
    organizer = vCalAddress(f"mailto:{brand.support_email or FALLBACK_ORGANIZER}")
    organizer.params["CN"] = vText(brand.name)
    for event in calendar.walk("VEVENT"):
        for key in ("ORGANIZER", "ATTENDEE"):
            event.pop(key, None)
        if method is Method.CANCEL:
            event.pop("STATUS", None)
            event.add("status", "CANCELLED")
        event.add("organizer", organizer)
        who = vCalAddress(f"mailto:{attendee.email}")
        if attendee.name:
            who.params["CN"] = vText(attendee.name)
        who.params["ROLE"] = vText("REQ-PARTICIPANT")
        who.params["PARTSTAT"] = vText("ACCEPTED")
        who.params["RSVP"] = vText("FALSE")
        event.add("attendee", who)
    return Attachment(
        filename=ICS_FILENAME,
        content_type=f"text/calendar; method={method.value}",
        content=calendar.to_ical(),
    )


@dataclass(frozen=True)
class VisitFacts:
    """What the emails say about a visit, from the event."""

    service: str
    project_name: str
    starts_at: datetime
    ends_at: datetime
    time_zone: str  # the site's: the text reads on its clock
    room: str = ""
    equipment: str = ""
    description: str = ""
    technician: str = ""
    pending: bool = False


def when(v: VisitFacts) -> str:
    """'Tue 8 Dec 2026, 10:00-11:00 GMT' on the site's clock."""
    zone = timefmt.zone(v.time_zone)
    start, end = v.starts_at.astimezone(zone), v.ends_at.astimezone(zone)
    day = f"{start:%a} {start.day} {start:%b %Y}"
    return f"{day}, {start:%H:%M}\u2013{end:%H:%M} {end.tzname()}"


def _about(v: VisitFacts) -> list[str]:
    lines = []
    if v.room:
        lines.append(f"Room: {v.room}")
    if v.equipment:
        lines.append(f"Equipment: {v.equipment}")
    if v.description:
        lines.append(f"Your note: {v.description}")
    return lines


def _where(v: VisitFacts) -> str:
    return f"{v.service} for {v.project_name}" if v.project_name else v.service


class Change(enum.Enum):
    REQUESTED = "requested"
    CONFIRMED = "confirmed"
    RESCHEDULED = "rescheduled"
    CANCELLED = "cancelled"


_CLIENT_SUBJECT = {
    Change.REQUESTED: "Visit booked",
    Change.CONFIRMED: "Visit confirmed",
    Change.RESCHEDULED: "Visit moved",
    Change.CANCELLED: "Visit cancelled",
}


def client_message(change: Change, v: VisitFacts, *, link: str) -> Message:
    """To the client's contacts: what changed, when it now is, on the site's clock."""
    subject = _CLIENT_SUBJECT[change]
    if change is Change.REQUESTED and v.pending:
        subject = "Visit requested"
    lead = {
        Change.REQUESTED: (
            f"We have your request: {_where(v)}, {when(v)}. We will confirm it shortly; "
            "the time is held for you."
            if v.pending
            else f"Your visit is booked: {_where(v)}, {when(v)}."
        ),
        Change.CONFIRMED: f"Your visit is confirmed: {_where(v)}, {when(v)}.",
        Change.RESCHEDULED: f"Your visit has moved: {_where(v)} is now {when(v)}.",
        Change.CANCELLED: f"Your visit ({_where(v)}, {when(v)}) is cancelled.",
    }[change]
    paragraphs = [lead, *(_about(v) if change is not Change.CANCELLED else [])]
    if v.technician and change is not Change.CANCELLED:
        paragraphs.append(f"Technician: {v.technician}")
    after = (
        ["The attached calendar entry removes the visit from your calendar."]
        if change is Change.CANCELLED
        else ["The attached calendar entry adds the visit to your calendar, or updates it."]
    )
    return Message(
        subject=f"{subject}: {v.service}, {when(v)}",
        paragraphs=paragraphs,
        button="See your visits",
        link=link,
        after=after,
    )


def technician_message(change: Change, v: VisitFacts, *, left: bool = False) -> Message:
    """To the technician assigned (or, `left`, the one the visit moved away from)."""
    if left or change is Change.CANCELLED:
        verb = "moved to another technician" if left else "cancelled"
        return Message(
            subject=f"Visit off your calendar: {v.service}, {when(v)}",
            paragraphs=[
                f"The visit {_where(v)}, {when(v)}, is {verb}: it is no longer yours.",
            ],
            after=["The attached calendar entry removes it from your calendar."],
        )
    subject = {
        Change.REQUESTED: "New visit",
        Change.CONFIRMED: "Visit confirmed",
        Change.RESCHEDULED: "Visit moved",
    }[change]
    status = " (waiting for confirmation)" if v.pending else ""
    return Message(
        subject=f"{subject}: {v.service}, {when(v)}",
        paragraphs=[
            f"{subject}{status}: {_where(v)}, {when(v)}.",
            *[line.replace("Your note", "Client's note") for line in _about(v)],
        ],
        after=["The attached calendar entry is the same event as in your visits feed."],
    )


def conflict_message(
    *, title: str, project_name: str, technician: str, reason: str, when_text: str, link: str
) -> Message:
    """To dispatch: a visit now clashes with its technician's calendar."""
    where = f"{title} for {project_name}" if project_name else title
    who = technician or "its technician"
    return Message(
        subject=f"Needs dispatch: {title}, {when_text}",
        paragraphs=[
            f"{where}, {when_text}, clashes with the calendar of {who}: {reason}.",
            "Move it or give it to another technician; until then it stays flagged "
            "on the dispatch calendar.",
        ],
        button="Open the dispatch calendar",
        link=link,
    )
