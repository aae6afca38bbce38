"""The calendars a booking's events carry for its email: the technician's copy
is the very event their feed holds (one UID, one SEQUENCE: a calendar app with
both shows one visit), and a visit moved to another technician carries a
cancelled copy for the one it left."""

from __future__ import annotations

from datetime import UTC, timedelta

from icalendar import Calendar
from portal.bookings.v1 import bookings_pb2 as pb
from portal.bookings.v1 import events_pb2

from tests.bookings.conftest import Integrator, _id, stamp


def parsed(ics: bytes):
    (event,) = Calendar.from_ical(ics).walk("VEVENT")
    return event


async def feed_event(acme: Integrator, technician_id: str, work_order_id: str):
    token = (
        await acme(
            "IssueFeedToken", pb.IssueFeedTokenRequest(technician_id=technician_id), acme.dispatcher
        )
    ).token
    feed = await acme("GetTechnicianFeed", pb.GetTechnicianFeedRequest(token=token), acme.gateway)
    events = Calendar.from_ical(feed.ics).walk("VEVENT")
    return next((e for e in events if work_order_id in str(e["uid"])), None)


async def test_the_technicians_emailed_copy_and_their_feed_are_one_event(acme: Integrator):
    tech = await acme.technician()
    await acme.project()
    stype = await acme.service_type(step_minutes=60)
    slots = await acme.slots(stype.id)
    booked = (
        await acme("BookVisit", acme.visit(stype.id, slots[0].starts_at), acme.client())
    ).booking
    (requested,) = await acme.svc.events(acme.tenant_id, events_pb2.BookingRequested)
    assert requested.technician_name == "Tom Tech"
    emailed, in_feed = (
        parsed(requested.technician_ics),
        await feed_event(acme, tech, booked.work_order_id),
    )
    assert in_feed is not None
    assert str(emailed["uid"]) == str(in_feed["uid"])
    assert int(emailed["sequence"]) == int(in_feed["sequence"])
    # The client's copy is theirs alone: another UID, its own SEQUENCE.
    assert str(parsed(requested.ics)["uid"]) != str(emailed["uid"])

    later = next(s for s in slots if s.local_date != slots[0].local_date)
    await acme(
        "RescheduleBooking",
        pb.RescheduleBookingRequest(booking_id=booked.id, starts_at=later.starts_at),
        acme.client(),
    )
    (moved,) = await acme.svc.events(acme.tenant_id, events_pb2.BookingRescheduled)
    emailed, in_feed = (
        parsed(moved.technician_ics),
        await feed_event(acme, tech, booked.work_order_id),
    )
    assert str(emailed["uid"]) == str(in_feed["uid"])
    assert int(emailed["sequence"]) == int(in_feed["sequence"]) == 1
    assert emailed.decoded("dtstart").astimezone(UTC) == later.starts_at.ToDatetime(tzinfo=UTC)
    assert moved.previous_technician_email == ""  # the same technician kept it


async def test_a_visit_moved_to_another_technician_cancels_the_first_ones_copy(
    acme: Integrator,
):
    ann = await acme.technician("Ann")
    await acme.project()
    stype = await acme.service_type(step_minutes=60)
    slots = await acme.slots(stype.id)
    booked = (
        await acme("BookVisit", acme.visit(stype.id, slots[0].starts_at), acme.client())
    ).booking
    assert booked.technician_id == ann
    bob = await acme.technician("Bob")
    later = next(s for s in slots if s.local_date != slots[0].local_date)
    # Ann is busy then: the move can only go to Bob.
    busy_from = later.starts_at.ToDatetime(tzinfo=UTC) - timedelta(hours=1)
    await acme(
        "CreateWorkOrder",
        pb.CreateWorkOrderRequest(
            request_id=_id(),
            project_id=acme.project_id,
            title="Install",
            technician_ids=[ann],
            starts_at=stamp(busy_from),
            ends_at=stamp(busy_from + timedelta(hours=3)),
        ),
        acme.dispatcher,
    )
    moved = (
        await acme(
            "RescheduleBooking",
            pb.RescheduleBookingRequest(booking_id=booked.id, starts_at=later.starts_at),
            acme.dispatcher,
        )
    ).booking
    assert moved.technician_id == bob
    (event,) = await acme.svc.events(acme.tenant_id, events_pb2.BookingRescheduled)
    assert event.previous_technician_id == ann
    assert event.previous_technician_name == "Ann"
    assert event.previous_technician_email and event.technician_name == "Bob"
    left, taken = parsed(event.previous_technician_ics), parsed(event.technician_ics)
    assert (
        str(left["uid"])
        == str(taken["uid"])
        == f"work-order-{booked.work_order_id}@bookings.integrator-portal"
    )
    assert str(left["status"]) == "CANCELLED" and str(taken["status"]) != "CANCELLED"
    assert int(left["sequence"]) == int(taken["sequence"]) == 1
    # Her feed no longer holds it (a subscribed app drops it too); Bob's does.
    assert await feed_event(acme, ann, booked.work_order_id) is None
    assert await feed_event(acme, bob, booked.work_order_id) is not None
