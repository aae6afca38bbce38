"""Bookings' events become email with the visit's calendar invitation: queued
by the real handler (a fake identity answers brand, contacts and staff),
sent through the real SMTP gateway to the sink, and read back as a mail client
would. The .ics in the events is written by bookings' own code."""

from __future__ import annotations

import email
import email.policy
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from google.protobuf.timestamp_pb2 import Timestamp
from icalendar import Calendar
from portal.bookings.v1 import bookings_pb2 as bpb
from portal.bookings.v1 import events_pb2 as bev
from portal.identity.v1 import identity_pb2 as ipb
from sqlalchemy import func, select

from services.bookings.domain_ics import Visit, uid_for, visit_ics
from services.chassis.db import UnitOfWork
from services.chassis.events import Event, subject_for
from services.notifications import domain_booking_mail as mail
from services.notifications import handlers
from services.notifications.domain import Brand, Recipient
from services.notifications.models import EmailAttachment
from services.notifications.service import BOOKING_EVENTS, queue_booking_email
from tests.notifications.conftest import Mailer

START = datetime(2026, 12, 8, 10, 0, tzinfo=UTC)  # 10:00 GMT in London
CLIENT, TECH, OTHER_TECH, PM = (
    "jane.harrison@example.com",
    "tom@acme.example",
    "tess@acme.example",
    "pat@acme.example",
)


@dataclass
class FakeIdentity:
    customer_id: str
    staff: list[ipb.StaffUser] = field(default_factory=list)

    async def tenant(self, tenant_id: str) -> ipb.Tenant:
        return ipb.Tenant(
            id=tenant_id,
            slug="acme",
            display_name="Acme AV",
            time_zone="Europe/London",
            branding=ipb.Branding(support_email="help@acme.example"),
        )

    async def customer(self, tenant_id: str, customer_id: str) -> ipb.Customer:
        assert customer_id == self.customer_id
        return ipb.Customer(
            id=customer_id,
            contacts=[ipb.Contact(id=str(uuid.uuid4()), email=CLIENT, full_name="Jane Harrison")],
        )

    async def staff_users(self, tenant_id: str) -> list[ipb.StaffUser]:
        return self.staff


def ts(value: datetime) -> Timestamp:
    out = Timestamp()
    out.FromDatetime(value)
    return out


def ics(kind: str, record_id: str, sequence: int, *, cancelled: bool = False) -> bytes:
    return visit_ics(
        Visit(
            uid=uid_for(kind, record_id),
            sequence=sequence,
            summary="Projector check",
            starts_at=START,
            ends_at=START + timedelta(hours=1),
            time_zone="Europe/London",
            cancelled=cancelled,
        ),
        stamp=START - timedelta(days=3),
    )


@dataclass
class Visit1:
    """One booking's events, as bookings would publish them."""

    tenant_id: str
    booking_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    work_order_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    customer_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    project_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def booking(self, sequence: int, **kw) -> bpb.Booking:
        return bpb.Booking(
            id=self.booking_id,
            project_id=self.project_id,
            customer_id=self.customer_id,
            service_type_name="Projector check",
            project_name="Home cinema",
            status=kw.pop("status", bpb.BOOKING_STATUS_CONFIRMED),
            starts_at=ts(START),
            ends_at=ts(START + timedelta(hours=1)),
            time_zone="Europe/London",
            work_order_id=self.work_order_id,
            technician_name=kw.pop("technician_name", "Tom Tech"),
            room_name="Cinema room",
            products=[bpb.Product(manufacturer="Sony", model="VPL-XW7000")],
            sequence=sequence,
            **kw,
        )

    def event(self, payload) -> Event:
        return Event(
            id=str(uuid.uuid4()),
            type=subject_for(type(payload)),
            tenant_id=self.tenant_id,
            occurred_at=datetime.now(UTC),
            aggregate_type="booking",
            aggregate_id=self.booking_id,
            payload=payload,
        )

    def requested(self) -> Event:
        return self.event(
            bev.BookingRequested(
                booking=self.booking(0),
                ics=ics("booking", self.booking_id, 0),
                technician_email=TECH,
                technician_name="Tom Tech",
                technician_ics=ics("work-order", self.work_order_id, 0),
            )
        )

    def rescheduled_to_another(self) -> Event:
        return self.event(
            bev.BookingRescheduled(
                booking=self.booking(1, technician_name="Tess Tech"),
                ics=ics("booking", self.booking_id, 1),
                technician_email=OTHER_TECH,
                technician_name="Tess Tech",
                technician_ics=ics("work-order", self.work_order_id, 1),
                previous_starts_at=ts(START - timedelta(days=1)),
                previous_technician_id=str(uuid.uuid4()),
                previous_technician_email=TECH,
                previous_technician_name="Tom Tech",
                previous_technician_ics=ics("work-order", self.work_order_id, 1, cancelled=True),
            )
        )


async def queue(mailer: Mailer, identity: FakeIdentity, event: Event) -> None:
    async with UnitOfWork(mailer.sessions, mailer.tenant_id) as uow:
        await queue_booking_email(
            uow, event, identity=identity, portal_url_template="http://{slug}.localhost:8000"
        )
        await uow.commit()


def received(mailer: Mailer, to: str) -> list[email.message.EmailMessage]:
    return [
        email.message_from_bytes(mailer.sink.raw(m["id"]), policy=email.policy.default)
        for m in mailer.sink.messages
        if to in m["rcpt_tos"]
    ]


def invitation_of(message) -> tuple[str, Calendar]:
    (part,) = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
    assert part.get_filename() == "visit.ics"
    return part.get_param("method"), Calendar.from_ical(part.get_content())


def the_event(calendar: Calendar):
    (event,) = calendar.walk("VEVENT")
    return event


async def test_a_booking_emails_the_client_and_the_technician_each_their_own_invitation(
    mailer: Mailer,
):
    visit = Visit1(mailer.tenant_id)
    identity = FakeIdentity(visit.customer_id)
    await queue(mailer, identity, visit.requested())
    assert await mailer.send_due() == 2

    (to_client,) = received(mailer, CLIENT)
    assert (
        to_client["Subject"]
        == "Visit booked: Projector check, Tue 8 Dec 2026, 10:00\u201311:00 GMT"
    )
    body = to_client.get_body(("plain",)).get_content()
    assert "Sony VPL-XW7000" in body and "Cinema room" in body
    method, calendar = invitation_of(to_client)
    event = the_event(calendar)
    assert method == "REQUEST" and calendar["METHOD"] == "REQUEST"
    assert str(event["UID"]) == uid_for("booking", visit.booking_id)
    assert event["SEQUENCE"] == 0
    assert event["DTSTART"].dt == START  # the instant, written on London's clock
    assert event["DTSTART"].params["TZID"] == "Europe/London"
    assert str(event["ATTENDEE"]) == f"mailto:{CLIENT}"
    assert event["ATTENDEE"].params["RSVP"] == "FALSE"
    assert str(event["ORGANIZER"]) == "mailto:help@acme.example"

    (to_tech,) = received(mailer, TECH)
    _, calendar = invitation_of(to_tech)
    # The technician's copy is the visit as their feed holds it: the work
    # order's UID, not the client's, so feed and email are one event to them.
    assert str(the_event(calendar)["UID"]) == uid_for("work-order", visit.work_order_id)
    assert str(the_event(calendar)["ATTENDEE"]) == f"mailto:{TECH}"


async def test_each_event_is_mailed_once_however_often_it_arrives(mailer: Mailer):
    visit = Visit1(mailer.tenant_id)
    identity = FakeIdentity(visit.customer_id)
    event = visit.requested()
    await queue(mailer, identity, event)
    await queue(mailer, identity, event)  # a duplicate past the inbox
    assert await mailer.send_due() == 2
    assert await mailer.send_due() == 0
    assert len(received(mailer, CLIENT)) == 1 and len(received(mailer, TECH)) == 1
    async with mailer.sessions() as session:
        files = await session.scalar(select(func.count()).select_from(EmailAttachment))
    assert files == 2


async def test_a_reschedule_to_another_technician_tells_the_first_it_is_off_their_calendar(
    mailer: Mailer,
):
    visit = Visit1(mailer.tenant_id)
    identity = FakeIdentity(visit.customer_id)
    await queue(mailer, identity, visit.rescheduled_to_another())
    assert await mailer.send_due() == 3

    (to_client,) = received(mailer, CLIENT)
    method, calendar = invitation_of(to_client)
    assert method == "REQUEST" and the_event(calendar)["SEQUENCE"] == 1
    assert to_client["Subject"].startswith("Visit moved: Projector check")

    (to_new,) = received(mailer, OTHER_TECH)
    method, calendar = invitation_of(to_new)
    assert method == "REQUEST" and the_event(calendar)["SEQUENCE"] == 1

    (to_old,) = received(mailer, TECH)
    assert to_old["Subject"].startswith("Visit off your calendar")
    assert "moved to another technician" in to_old.get_body(("plain",)).get_content()
    method, calendar = invitation_of(to_old)
    event = the_event(calendar)
    assert method == "CANCEL" and calendar["METHOD"] == "CANCEL"
    assert str(event["UID"]) == uid_for("work-order", visit.work_order_id)
    assert event["SEQUENCE"] == 1 and event["STATUS"] == "CANCELLED"


async def test_a_cancellation_sends_cancel_with_the_same_uid_and_a_higher_sequence(
    mailer: Mailer,
):
    visit = Visit1(mailer.tenant_id)
    identity = FakeIdentity(visit.customer_id)
    cancelled = visit.event(
        bev.BookingCancelled(
            booking=visit.booking(2, status=bpb.BOOKING_STATUS_CANCELLED),
            ics=ics("booking", visit.booking_id, 2, cancelled=True),
            technician_email=TECH,
            technician_name="Tom Tech",
            technician_ics=ics("work-order", visit.work_order_id, 2, cancelled=True),
        )
    )
    await queue(mailer, identity, cancelled)
    assert await mailer.send_due() == 2
    for to, kind, record in (
        (CLIENT, "booking", visit.booking_id),
        (TECH, "work-order", visit.work_order_id),
    ):
        (message,) = received(mailer, to)
        assert (
            "cancelled" in message["Subject"].lower() or "off your calendar" in message["Subject"]
        )
        method, calendar = invitation_of(message)
        event = the_event(calendar)
        assert method == "CANCEL"
        assert str(event["UID"]) == uid_for(kind, record) and event["SEQUENCE"] == 2


async def test_a_conflict_goes_to_the_project_managers_without_a_file(mailer: Mailer):
    visit = Visit1(mailer.tenant_id)
    tech_id = str(uuid.uuid4())
    identity = FakeIdentity(
        visit.customer_id,
        staff=[
            ipb.StaffUser(
                id=tech_id, email=TECH, full_name="Tom Tech", roles=[ipb.STAFF_ROLE_TECHNICIAN]
            ),
            ipb.StaffUser(
                id=str(uuid.uuid4()),
                email=PM,
                full_name="Pat",
                roles=[ipb.STAFF_ROLE_PROJECT_MANAGER],
            ),
        ],
    )
    flagged = visit.event(
        bev.WorkOrderConflictFlagged(
            work_order=bpb.WorkOrder(
                id=visit.work_order_id,
                title="Projector check",
                project_name="Home cinema",
                starts_at=ts(START),
            ),
            technician_id=tech_id,
            reason="time off",
        )
    )
    await queue(mailer, identity, flagged)
    assert await mailer.send_due() == 1
    (message,) = received(mailer, PM)
    body = message.get_body(("plain",)).get_content()
    assert "Tom Tech" in body and "time off" in body
    assert "/console/dispatch" in body
    assert list(message.iter_attachments()) == []


def test_every_booking_event_is_subscribed():
    subscriptions = handlers.subscriptions(identity=None, portal_url_template="")  # type: ignore[arg-type]
    subscribed = {s.payload_type for s in subscriptions}
    assert set(BOOKING_EVENTS) <= subscribed


def test_the_invitation_keeps_bookings_uid_sequence_and_times():
    written = ics("booking", "b1", 4)
    brand = Brand(name="Acme AV", accent_color="", support_email="", support_phone="")
    out = mail.invitation(
        written, method=mail.Method.REQUEST, brand=brand, attendee=Recipient(CLIENT, "Jane")
    )
    before, after = (
        the_event(Calendar.from_ical(written)),
        the_event(Calendar.from_ical(out.content)),
    )
    for key in ("UID", "SEQUENCE", "DTSTART", "DTEND"):
        assert after[key].to_ical() == before[key].to_ical()
    assert out.content_type == "text/calendar; method=REQUEST"
    assert str(after["ORGANIZER"]) == f"mailto:{mail.FALLBACK_ORGANIZER}"
    assert Calendar.from_ical(out.content).walk("VTIMEZONE")
