"""One technician is never booked twice: 100 clients racing for one slot get
one booking and 99 plain "taken" answers, and the database itself refuses
overlapping blocks (the exclusion constraint), answered as ABORTED, not 500."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, timedelta
from zoneinfo import ZoneInfo

import grpc
import pytest
from portal.bookings.v1 import bookings_pb2 as pb
from sqlalchemy.exc import IntegrityError

from services.bookings.service.common import is_exclusion_violation
from services.chassis.grpc_client import error_detail
from tests.bookings.conftest import ABORTED, Integrator, _id, stamp


async def test_a_hundred_bookings_of_one_slot_make_one_and_tell_the_rest(acme: Integrator):
    await acme.technician()
    await acme.project()
    stype = await acme.service_type()
    slot = (await acme.slots(stype.id))[0]

    async def book():
        try:
            return await acme("BookVisit", acme.visit(stype.id, slot.starts_at), acme.client())
        except grpc.aio.AioRpcError as exc:
            return exc

    loop = asyncio.get_running_loop()
    began = loop.time()
    answers = await asyncio.gather(*(book() for _ in range(100)))
    took = loop.time() - began
    won = [a for a in answers if not isinstance(a, grpc.aio.AioRpcError)]
    lost = [a for a in answers if isinstance(a, grpc.aio.AioRpcError)]
    assert len(won) == 1 and len(lost) == 99
    for err in lost:
        assert err.code() == ABORTED, (err.code(), err.details())
        assert error_detail(err).code == "slot_taken"
        assert "just taken" in err.details() and "pick another time" in err.details()
    assert (await acme.svc.sql(acme.tenant_id, _overlaps_sql()))[0].n == 0
    held = await acme.svc.sql(acme.tenant_id, "SELECT count(*) AS n FROM assignment WHERE active")
    assert held[0].n == 1
    print(f"100 concurrent bookings of one slot answered in {took:.2f}s")


async def test_a_loser_who_asks_gets_the_free_times_now_with_the_refusal(acme: Integrator):
    await acme.technician()
    await acme.project()
    stype = await acme.service_type()
    slot = (await acme.slots(stype.id))[0]
    await acme("BookVisit", acme.visit(stype.id, slot.starts_at), acme.client())
    # Refused by the unlocked check, with and without a room named.
    for room in (acme.room_id, ""):
        request = acme.visit(stype.id, slot.starts_at, fresh_slot_days=7, room_id=room)
        if not room:
            del request.product_line_ids[:]
        err = await acme.fails(ABORTED, "BookVisit", request, acme.client())
        assert error_detail(err).code == "slot_taken"
        fresh = fresh_slots(err)
        assert fresh.time_zone and fresh.slots
        starts = [s.starts_at.seconds for s in fresh.slots]
        assert slot.starts_at.seconds not in starts
        # The same times a ListSlots from that day offers now.
        day = slot.starts_at.ToDatetime(tzinfo=UTC).astimezone(ZoneInfo(fresh.time_zone)).date()
        listed = await acme.slots(stype.id, days=7, from_date=day.isoformat())
        assert starts == [s.starts_at.seconds for s in listed]
    # Without asking, the refusal carries none.
    plain = acme.visit(stype.id, slot.starts_at)
    assert fresh_slots(await acme.fails(ABORTED, "BookVisit", plain, acme.client())) is None


def fresh_slots(err: grpc.aio.AioRpcError) -> pb.ListSlotsResponse | None:
    for key, value in err.trailing_metadata() or ():
        if key == "portal-fresh-slots-bin":
            return pb.ListSlotsResponse.FromString(value)
    return None


async def test_the_database_refuses_overlapping_blocks_of_one_technician(acme: Integrator):
    tech = await acme.technician()
    await acme.project()
    stype = await acme.service_type()
    slot = (await acme.slots(stype.id))[0]
    booked = (await acme("BookVisit", acme.visit(stype.id, slot.starts_at), acme.client())).booking
    start = slot.starts_at.ToDatetime(tzinfo=UTC)
    spare = install(acme, tech, start, start + timedelta(hours=1))
    del spare.technician_ids[:]
    other = (await acme("CreateWorkOrder", spare, acme.dispatcher)).work_order
    # Straight past the application: another order's active block overlapping the first.
    with pytest.raises(IntegrityError) as err:
        await acme.svc.sql(
            acme.tenant_id,
            "INSERT INTO assignment (id, tenant_id, work_order_id, technician_id, "
            "block_starts_at, block_ends_at, active) "
            "SELECT :id, tenant_id, :other, technician_id, "
            "block_starts_at + interval '30 minutes', "
            "block_ends_at + interval '30 minutes', true FROM assignment WHERE work_order_id = :wo",
            id=uuid.uuid4(),
            other=uuid.UUID(other.id),
            wo=uuid.UUID(booked.work_order_id),
        )
    assert is_exclusion_violation(err.value)
    # An inactive block (a cancelled visit) holds nothing.
    await acme.svc.sql(
        acme.tenant_id,
        "UPDATE assignment SET active = false WHERE work_order_id = :wo",
        wo=uuid.UUID(booked.work_order_id),
    )
    made = await acme(
        "CreateWorkOrder",
        install(acme, tech, start, start + timedelta(hours=2)),
        acme.dispatcher,
    )
    assert list(made.work_order.technician_ids) == [tech]


def install(acme: Integrator, tech: str, start, end) -> pb.CreateWorkOrderRequest:
    return pb.CreateWorkOrderRequest(
        request_id=_id(),
        project_id=acme.project_id,
        title="Mount the screen",
        tasks=["Fix the frame", "Tension the screen"],
        technician_ids=[tech],
        starts_at=stamp(start),
        ends_at=stamp(end),
    )


async def test_staff_assigning_a_busy_technician_are_told_not_500(acme: Integrator):
    tech = await acme.technician()
    await acme.project()
    start = (await acme.slots((await acme.service_type()).id))[0].starts_at.ToDatetime(tzinfo=UTC)
    await acme(
        "CreateWorkOrder", install(acme, tech, start, start + timedelta(hours=3)), acme.dispatcher
    )
    err = await acme.fails(
        ABORTED,
        "CreateWorkOrder",
        install(acme, tech, start + timedelta(hours=1), start + timedelta(hours=4)),
        acme.dispatcher,
    )
    assert error_detail(err).code == "slot_taken" and "Tom Tech" in err.details()
    # Dispatch is told which visit is in the way, on the tenant's clock.
    assert "is already booked" in err.details() and "on that day" in err.details()
    # Unassigned, it is made; assigning it then is refused the same way.
    free = install(acme, tech, start + timedelta(hours=1), start + timedelta(hours=4))
    del free.technician_ids[:]
    order = (await acme("CreateWorkOrder", free, acme.dispatcher)).work_order
    from google.protobuf.field_mask_pb2 import FieldMask

    await acme.fails(
        ABORTED,
        "UpdateWorkOrder",
        pb.UpdateWorkOrderRequest(
            work_order_id=order.id,
            technician_ids=[tech],
            update_mask=FieldMask(paths=["technician_ids"]),
        ),
        acme.dispatcher,
    )
    unassigned = await acme(
        "ListWorkOrders",
        pb.ListWorkOrdersRequest(
            unassigned_only=True,
            to=stamp(start + timedelta(days=1)),
            **{"from": stamp(start - timedelta(days=1))},
        ),
        acme.dispatcher,
    )
    assert [o.id for o in unassigned.work_orders] == [order.id]


def _overlaps_sql() -> str:
    """Two active blocks of one technician overlapping: never."""
    return (
        "SELECT count(*) AS n FROM assignment a JOIN assignment b ON a.id < b.id "
        "AND a.technician_id = b.technician_id AND a.active AND b.active "
        "AND tstzrange(a.block_starts_at, a.block_ends_at) "
        "&& tstzrange(b.block_starts_at, b.block_ends_at)"
    )


async def _race(acme: Integrator, requests: list[pb.BookVisitRequest]) -> tuple[list, list]:
    async def book(request: pb.BookVisitRequest):
        try:
            return await acme("BookVisit", request, acme.client())
        except grpc.aio.AioRpcError as exc:
            return exc

    answers = await asyncio.gather(*(book(r) for r in requests))
    lost = [a for a in answers if isinstance(a, grpc.aio.AioRpcError)]
    return [a for a in answers if not isinstance(a, grpc.aio.AioRpcError)], lost


async def test_a_hundred_racers_asking_for_the_free_times_all_get_them(acme: Integrator):
    """The gateway's race: every refusal carries the free times now, none
    offers the time just taken, and they are what ListSlots offers."""
    await acme.technician()
    await acme.project()
    stype = await acme.service_type()
    slot = (await acme.slots(stype.id))[0]
    racers = [acme.visit(stype.id, slot.starts_at, fresh_slot_days=7) for _ in range(100)]
    won, lost = await _race(acme, racers)
    assert len(won) == 1 and len(lost) == 99
    day = slot.starts_at.ToDatetime(tzinfo=UTC).astimezone(ZoneInfo("Europe/London")).date()
    listed = [s.starts_at.seconds for s in await acme.slots(stype.id, days=7, from_date=str(day))]
    assert listed and slot.starts_at.seconds not in listed
    for err in lost:
        assert err.code() == ABORTED and error_detail(err).code == "slot_taken"
        fresh = fresh_slots(err)
        assert fresh is not None and [s.starts_at.seconds for s in fresh.slots] == listed
    assert (await acme.svc.sql(acme.tenant_id, _overlaps_sql()))[0].n == 0


async def test_two_kinds_of_visit_racing_for_one_technician_are_decided_by_the_locks(
    acme: Integrator,
):
    """Racers of two service types (the in-process queue is per type and
    start) for the one technician both can take: the technicians' locks
    decide, one booking in all, each loser told, with the free times."""
    await acme.technician()
    await acme.project()
    check = await acme.service_type()
    repair = await acme.service_type(name="Projector repair", duration_minutes=90)
    slot = (await acme.slots(check.id))[0]
    assert slot.starts_at in [s.starts_at for s in await acme.slots(repair.id)]
    racers = [
        acme.visit(kind.id, slot.starts_at, fresh_slot_days=3)
        for _ in range(10)
        for kind in (check, repair)
    ]
    won, lost = await _race(acme, racers)
    assert len(won) == 1 and len(lost) == 19
    for err in lost:
        assert err.code() == ABORTED and error_detail(err).code == "slot_taken"
        assert fresh_slots(err) is not None
    held = await acme.svc.sql(acme.tenant_id, "SELECT count(*) AS n FROM assignment WHERE active")
    assert held[0].n == 1
    assert (await acme.svc.sql(acme.tenant_id, _overlaps_sql()))[0].n == 0


async def test_one_request_sent_twice_at_once_books_once_and_answers_both(acme: Integrator):
    await acme.technician()
    await acme.project()
    stype = await acme.service_type()
    slot = (await acme.slots(stype.id))[0]
    request = acme.visit(stype.id, slot.starts_at)
    won, lost = await _race(acme, [request, request])
    assert not lost and won[0].booking.id == won[1].booking.id
    held = await acme.svc.sql(acme.tenant_id, "SELECT count(*) AS n FROM assignment WHERE active")
    assert held[0].n == 1
