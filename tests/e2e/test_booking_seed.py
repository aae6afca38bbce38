"""The seeded demo as `make run` leaves it: Jane Harrison can book a projector
check for next week on the Sony projector in her cinema room, the visit lands
on a technician's day, and both she and the technician get the email with its
calendar invitation (through the real bookings, notifications and SMTP sink)."""

from __future__ import annotations

import email
import email.policy
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from icalendar import Calendar
from portal.bookings.v1 import bookings_pb2 as bpb
from portal.bookings.v1 import bookings_pb2_grpc
from portal.identity.v1 import identity_pb2 as ipb
from portal.identity.v1 import identity_pb2_grpc
from portal.projects.v1 import projects_pb2 as ppb
from portal.projects.v1 import projects_pb2_grpc

from services.bookings.domain_ics import uid_for
from services.chassis.auth import Principal, PrincipalSigner
from services.chassis.grpc_client import Caller, open_channel
from tests.suite import wait_for

pytestmark = pytest.mark.e2e

JANE = "jane.harrison@example.com"


async def test_the_demo_client_books_a_projector_check_next_week(running, mail):
    info, suite = running.info, running.suite
    call = Caller(PrincipalSigner(suite.private_key))
    staff = Principal(kind="service", subject="test", tenant_id=info["tenant_id"])
    async with (
        open_channel(suite.target("identity")) as ich,
        open_channel(suite.target("projects")) as pch,
        open_channel(suite.target("bookings")) as bch,
    ):
        identity = identity_pb2_grpc.IdentityServiceStub(ich)
        bookings = bookings_pb2_grpc.BookingsServiceStub(bch)
        customer = (
            await call(
                identity.GetCustomer,
                ipb.GetCustomerRequest(customer_id=info["demo_customer_id"]),
                staff,
            )
        ).customer
        jane_id = next(c.id for c in customer.contacts if c.email == JANE)
        jane = Principal(
            kind="client",
            subject=jane_id,
            tenant_id=info["tenant_id"],
            customer_id=customer.id,
            roles=frozenset({"approver"}),
        )
        types = await call(bookings.ListServiceTypes, bpb.ListServiceTypesRequest(), jane)
        check = next(t for t in types.service_types if t.name == "Projector check")
        assert check.id == info["demo_service_type_id"]
        assert (check.duration_minutes, check.min_notice_minutes) == (60, 24 * 60)
        # Her equipment, as projects shows it to her.
        rooms = (
            await call(
                projects_pb2_grpc.ProjectsServiceStub(pch).ListRooms,
                ppb.ListRoomsRequest(project_id=info["demo_project_id"]),
                jane,
            )
        ).rooms
        cinema = next(r for r in rooms if r.name == "Cinema")
        projector = next(p for p in cinema.lines if p.manufacturer == "Sony")

        next_week = (datetime.now(UTC) + timedelta(days=7)).date()
        slots = (
            await call(
                bookings.ListSlots,
                bpb.ListSlotsRequest(
                    service_type_id=check.id,
                    project_id=info["demo_project_id"],
                    from_date=next_week.isoformat(),
                    days=7,
                ),
                jane,
            )
        ).slots
        assert slots, "the seeded technicians have free time next week"
        # Jane's mails from here on: the browser walk books her visits too.
        seen = max((m["id"] for m in (await mail.get("/messages")).json()), default=0)
        booked = (
            await call(
                bookings.BookVisit,
                bpb.BookVisitRequest(
                    request_id=str(uuid.uuid4()),
                    project_id=info["demo_project_id"],
                    service_type_id=check.id,
                    starts_at=slots[0].starts_at,
                    room_id=cinema.id,
                    product_line_ids=[projector.id],
                    description="Picture looks soft since the firmware update.",
                ),
                jane,
            )
        ).booking
        assert booked.technician_name in ("Marcus Reed", "Priya Shah")
        day = await call(
            bookings.ListWorkOrders,
            bpb.ListWorkOrdersRequest(**{"from": slots[0].starts_at, "to": slots[0].ends_at}),
            Principal(
                kind="staff",
                subject="test",
                tenant_id=info["tenant_id"],
                roles=frozenset({"project_manager"}),
            ),
        )
        (order,) = [w for w in day.work_orders if w.booking_id == booked.id]
        assert [p.model for p in order.products] == [projector.model]

    async def invited():
        try:
            r = await mail.get("/messages", params={"to": JANE})
        except httpx.TransportError:
            return None  # the sink busy on a loaded machine: ask again
        found = [
            m
            for m in r.json()
            if m["id"] > seen and m["subject"].startswith("Visit booked: Projector check")
        ]
        return found or None

    (message,) = await wait_for(invited, timeout=60)
    assert [a["content_type"] for a in message["attachments"]] == ["text/calendar"]
    raw = (await mail.get(f"/messages/{message['id']}/raw")).content
    (part,) = email.message_from_bytes(raw, policy=email.policy.default).iter_attachments()
    calendar = Calendar.from_ical(part.get_content())
    (event,) = calendar.walk("VEVENT")
    assert calendar["METHOD"] == "REQUEST"
    assert str(event["UID"]) == uid_for("booking", booked.id)
    assert event["DTSTART"].dt == slots[0].starts_at.ToDatetime(tzinfo=UTC)
