"""A client books a projector check from their cinema room, the dispatch
calendar holds it, the .ics follows every change, cancelling frees the slot."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from icalendar import Calendar
from portal.bookings.v1 import bookings_pb2 as pb
from portal.bookings.v1 import events_pb2
from portal.identity.v1.identity_pb2 import ACCESS_STATE_ARCHIVED, ACCESS_STATE_DELETED
from portal.projects.v1 import events_pb2 as project_events
from portal.projects.v1.projects_pb2 import Stage

from services.bookings import handlers
from services.chassis.grpc_client import error_detail
from tests.bookings.conftest import (
    ABORTED,
    DENIED,
    NOT_FOUND,
    PRECONDITION,
    Integrator,
    _id,
    stamp,
)


def parsed(ics: bytes):
    (event,) = Calendar.from_ical(ics).walk("VEVENT")
    return event


async def test_a_client_books_from_their_equipment_and_cancelling_frees_the_slot(
    acme: Integrator,
):
    tech = await acme.technician()
    await acme.project()
    stype = await acme.service_type()
    slots = await acme.slots(stype.id)
    assert slots and all(s.local_time >= "09:00" for s in slots)
    first = slots[0]

    booked = (await acme("BookVisit", acme.visit(stype.id, first.starts_at), acme.client())).booking
    assert booked.status == pb.BOOKING_STATUS_CONFIRMED
    assert (booked.technician_id, booked.room_name) == (tech, "Cinema room")
    assert [(p.manufacturer, p.model) for p in booked.products] == [("Sony", "VPL-XW7000")]
    assert booked.sequence == 0 and booked.can_cancel and booked.time_zone == "Europe/London"
    # Projects was asked as the client: it decides what the client may pick.
    assert ("ListRooms", "client") in acme.svc.projects.calls

    # The dispatch calendar shows it on the technician's day with the product.
    day = first.starts_at.ToDatetime(tzinfo=UTC)
    orders = (
        await acme(
            "ListWorkOrders",
            pb.ListWorkOrdersRequest(
                technician_id=tech, to=stamp(day + timedelta(days=1)), **{"from": stamp(day)}
            ),
            acme.dispatcher,
        )
    ).work_orders
    assert [(o.kind, o.booking_id, o.products[0].model) for o in orders] == [
        (pb.WORK_ORDER_KIND_SERVICE, booked.id, "VPL-XW7000")
    ]
    # The slot is gone for everyone; its buffer after pushes the next start 15 minutes on.
    again = [s.starts_at for s in await acme.slots(stype.id)]
    assert first.starts_at not in again

    (requested,) = await acme.svc.events(acme.tenant_id, events_pb2.BookingRequested)
    event = parsed(requested.ics)
    uid = str(event["uid"])
    assert uid == f"booking-{booked.id}@bookings.integrator-portal"
    assert int(event["sequence"]) == 0 and str(event["status"]) == "CONFIRMED"
    # On the site's clock with its zone, stamped in UTC.
    assert event["dtstart"].params["TZID"] == "Europe/London"
    assert event.decoded("dtstart") == day
    assert event.decoded("dtend") - event.decoded("dtstart") == timedelta(hours=1)
    assert event.decoded("dtstamp").utcoffset() == timedelta(0)
    assert "VPL-XW7000" in str(event["description"]) and "Bath" in str(event["location"])
    vtz = Calendar.from_ical(requested.ics).walk("VTIMEZONE")
    assert [str(z["tzid"]) for z in vtz] == ["Europe/London"]
    assert requested.technician_email.endswith("@acme.example")

    cancelled = (
        await acme(
            "CancelBooking",
            pb.CancelBookingRequest(booking_id=booked.id, reason="Fixed itself"),
            acme.client(),
        )
    ).booking
    assert cancelled.status == pb.BOOKING_STATUS_CANCELLED and cancelled.sequence == 1
    assert first.starts_at in [s.starts_at for s in await acme.slots(stype.id)]
    (gone,) = await acme.svc.events(acme.tenant_id, events_pb2.BookingCancelled)
    event = parsed(gone.ics)
    assert str(event["uid"]) == uid and int(event["sequence"]) == 1
    assert str(event["status"]) == "CANCELLED"
    assert len(await acme.svc.events(acme.tenant_id, events_pb2.WorkOrderUpdated)) == 1


async def test_reschedule_keeps_the_technician_and_raises_the_sequence(acme: Integrator):
    await acme.technician("Ann")
    await acme.technician("Bob")
    await acme.project()
    stype = await acme.service_type(step_minutes=60)
    slots = await acme.slots(stype.id)
    booked = (
        await acme("BookVisit", acme.visit(stype.id, slots[0].starts_at), acme.client())
    ).booking
    later = next(s for s in slots if s.local_date != slots[0].local_date)
    moved = (
        await acme(
            "RescheduleBooking",
            pb.RescheduleBookingRequest(booking_id=booked.id, starts_at=later.starts_at),
            acme.client(),
        )
    ).booking
    assert moved.technician_id == booked.technician_id
    assert moved.starts_at == later.starts_at and moved.sequence == 1
    (event,) = await acme.svc.events(acme.tenant_id, events_pb2.BookingRescheduled)
    assert event.previous_starts_at == slots[0].starts_at
    assert int(parsed(event.ics)["sequence"]) == 1


async def test_the_least_loaded_technician_takes_the_visit(acme: Integrator):
    ann, bob = await acme.technician("Ann"), await acme.technician("Bob")
    await acme.project()
    stype = await acme.service_type()
    slots = await acme.slots(stype.id)
    same_day = [s for s in slots if s.local_date == slots[0].local_date]
    first = (
        await acme("BookVisit", acme.visit(stype.id, same_day[0].starts_at), acme.client())
    ).booking
    second = (
        await acme("BookVisit", acme.visit(stype.id, same_day[3].starts_at), acme.client())
    ).booking
    assert {first.technician_id, second.technician_id} == {ann, bob}


async def test_a_client_cannot_change_a_visit_past_the_cut_off_but_staff_can(acme: Integrator):
    await acme.technician()
    await acme.project()
    stype = await acme.service_type(
        cancel_cutoff_minutes=7 * 24 * 60, reschedule_cutoff_minutes=7 * 24 * 60
    )
    slot = (await acme.slots(stype.id))[0]
    booked = (await acme("BookVisit", acme.visit(stype.id, slot.starts_at), acme.client())).booking
    assert not booked.can_cancel and not booked.can_reschedule
    err = await acme.fails(
        PRECONDITION, "CancelBooking", pb.CancelBookingRequest(booking_id=booked.id), acme.client()
    )
    assert error_detail(err).code == "past_cutoff" and "contact us" in err.details()
    staff = await acme(
        "CancelBooking", pb.CancelBookingRequest(booking_id=booked.id), acme.dispatcher
    )
    assert staff.booking.status == pb.BOOKING_STATUS_CANCELLED


async def test_who_may_book_is_the_integrators_rule(acme: Integrator):
    await acme.technician()
    await acme.project(stage=Stage.STAGE_INSTALL)
    stype = await acme.service_type(allow_after_handover=True, allow_service_contract=True)
    err = await acme.fails(
        PRECONDITION,
        "ListSlots",
        pb.ListSlotsRequest(service_type_id=stype.id, project_id=acme.project_id),
        acme.client(),
    )
    assert error_detail(err).code == "not_bookable"
    await acme.deliver(
        project_events.ProjectServiceContractChanged(
            project_id=acme.project_id, customer_id=acme.customer_id, service_contract=True
        )
    )
    assert await acme.slots(stype.id)


async def test_pending_bookings_hold_their_slot_until_staff_confirm(acme: Integrator):
    await acme.technician()
    await acme.project()
    stype = await acme.service_type(requires_confirmation=True)
    slot = (await acme.slots(stype.id))[0]
    booked = (await acme("BookVisit", acme.visit(stype.id, slot.starts_at), acme.client())).booking
    assert booked.status == pb.BOOKING_STATUS_PENDING
    assert slot.starts_at not in [s.starts_at for s in await acme.slots(stype.id)]
    (requested,) = await acme.svc.events(acme.tenant_id, events_pb2.BookingRequested)
    assert str(parsed(requested.ics)["status"]) == "TENTATIVE"
    await acme.fails(
        DENIED, "ConfirmBooking", pb.ConfirmBookingRequest(booking_id=booked.id), acme.client()
    )
    done = await acme(
        "ConfirmBooking", pb.ConfirmBookingRequest(booking_id=booked.id), acme.dispatcher
    )
    assert done.booking.status == pb.BOOKING_STATUS_CONFIRMED and done.booking.sequence == 1


async def test_archived_customers_see_their_history_but_cannot_book_and_deleted_see_nothing(
    acme: Integrator,
):
    await acme.technician()
    await acme.project()
    stype = await acme.service_type()
    slots = await acme.slots(stype.id)
    booked = (
        await acme("BookVisit", acme.visit(stype.id, slots[0].starts_at), acme.client())
    ).booking
    subs = handlers.subscriptions()
    await acme.svc.change_customer_access(
        subs, tenant_id=acme.tenant_id, customer_id=acme.customer_id, to_state=ACCESS_STATE_ARCHIVED
    )
    await acme.fails(DENIED, "BookVisit", acme.visit(stype.id, slots[1].starts_at), acme.client())
    history = await acme("ListBookings", pb.ListBookingsRequest(), acme.client())
    assert [b.id for b in history.bookings] == [booked.id]
    await acme.svc.change_customer_access(
        subs, tenant_id=acme.tenant_id, customer_id=acme.customer_id, to_state=ACCESS_STATE_DELETED
    )
    await acme.fails(DENIED, "ListBookings", pb.ListBookingsRequest(), acme.client())
    await acme.fails(
        DENIED, "GetBooking", pb.GetBookingRequest(booking_id=booked.id), acme.client()
    )
    # Staff still see every customer's service calls.
    staff = await acme(
        "ListBookings", pb.ListBookingsRequest(customer_id=acme.customer_id), acme.dispatcher
    )
    assert [b.id for b in staff.bookings] == [booked.id]


async def test_a_client_cannot_see_book_against_or_change_another_customers_things(
    acme: Integrator,
):
    await acme.technician()
    await acme.project()
    stype = await acme.service_type()
    slots = await acme.slots(stype.id)
    booked = (
        await acme("BookVisit", acme.visit(stype.id, slots[0].starts_at), acme.client())
    ).booking
    other = acme.client(customer_id=_id())
    await acme.fails(NOT_FOUND, "GetBooking", pb.GetBookingRequest(booking_id=booked.id), other)
    await acme.fails(
        NOT_FOUND, "CancelBooking", pb.CancelBookingRequest(booking_id=booked.id), other
    )
    assert not (await acme("ListBookings", pb.ListBookingsRequest(), other)).bookings
    await acme.fails(NOT_FOUND, "BookVisit", acme.visit(stype.id, slots[1].starts_at), other)


async def test_a_technicians_feed_lists_their_visits_behind_a_revocable_secret(acme: Integrator):
    tech = await acme.technician()
    await acme.project()
    stype = await acme.service_type()
    slot = (await acme.slots(stype.id))[0]
    booked = (await acme("BookVisit", acme.visit(stype.id, slot.starts_at), acme.client())).booking
    token = (
        await acme("IssueFeedToken", pb.IssueFeedTokenRequest(technician_id=tech), acme.dispatcher)
    ).token
    feed = await acme("GetTechnicianFeed", pb.GetTechnicianFeedRequest(token=token), acme.gateway)
    calendar = Calendar.from_ical(feed.ics)
    (event,) = calendar.walk("VEVENT")
    assert str(event["uid"]) == f"work-order-{booked.work_order_id}@bookings.integrator-portal"
    assert event["dtstart"].params["TZID"] == "Europe/London"
    assert event.decoded("dtstart").astimezone(UTC) == slot.starts_at.ToDatetime(tzinfo=UTC)
    assert "VPL-XW7000" in str(event["description"])
    await acme("RevokeFeedToken", pb.RevokeFeedTokenRequest(technician_id=tech), acme.dispatcher)
    await acme.fails(
        NOT_FOUND, "GetTechnicianFeed", pb.GetTechnicianFeedRequest(token=token), acme.gateway
    )


async def test_time_off_over_a_visit_flags_it_and_closes_the_slots(acme: Integrator):
    tech = await acme.technician()
    await acme.project()
    stype = await acme.service_type()
    slot = (await acme.slots(stype.id))[0]
    booked = (await acme("BookVisit", acme.visit(stype.id, slot.starts_at), acme.client())).booking
    start = slot.starts_at.ToDatetime(tzinfo=UTC)
    added = await acme(
        "AddTimeOff",
        pb.AddTimeOffRequest(
            request_id=_id(),
            technician_id=tech,
            starts_at=stamp(start - timedelta(hours=8)),
            ends_at=stamp(start + timedelta(hours=8)),
            reason="Dentist",
        ),
        acme.dispatcher,
    )
    assert list(added.conflicting_work_order_ids) == [booked.work_order_id]
    (flag,) = await acme.svc.events(acme.tenant_id, events_pb2.WorkOrderConflictFlagged)
    assert flag.technician_id == tech and "off" in flag.reason
    day = [s for s in await acme.slots(stype.id) if s.local_date == slot.local_date]
    assert day == []


async def test_losing_the_technician_role_flags_their_visits_still_to_come(acme: Integrator):
    from portal.identity.v1 import events_pb2 as identity_events

    tech = await acme.technician()
    await acme.project()
    stype = await acme.service_type()
    slot = (await acme.slots(stype.id))[0]
    await acme("BookVisit", acme.visit(stype.id, slot.starts_at), acme.client())
    await acme.deliver(
        identity_events.StaffUserChanged(
            staff_user_id=tech, email="t@acme.example", full_name="Tom Tech", roles=["admin"]
        ),
        at=datetime.now(UTC) + timedelta(seconds=1),
    )
    (flag,) = await acme.svc.events(acme.tenant_id, events_pb2.WorkOrderConflictFlagged)
    assert "no longer a technician" in flag.reason
    listed = await acme("ListTechnicians", pb.ListTechniciansRequest(), acme.dispatcher)
    assert tech not in [t.staff_user_id for t in listed.technicians]
    assert await acme.slots(stype.id) == []
    _ = ABORTED
