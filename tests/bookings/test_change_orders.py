"""An approved change order on the dispatch calendar, through bookings' own
handler on real PostgreSQL: the room's install visit takes the tasks once
(the same event three times), a shift moves later install visits, and one
the shift would land on its technician's other visit stays put, flagged."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from portal.bookings.v1 import bookings_pb2 as pb
from portal.bookings.v1 import events_pb2 as booking_events
from portal.changeorders.v1 import changeorders_pb2 as co_pb
from portal.changeorders.v1 import events_pb2 as co_events

from tests.bookings.conftest import Integrator, _id, stamp
from tests.statements import statements_sent

ADDED = co_pb.LINE_CHANGE_KIND_ADDED
REPRICED = co_pb.LINE_CHANGE_KIND_REPRICED


def _monday_10(weeks: int) -> datetime:
    today = datetime.now(UTC).replace(hour=10, minute=0, second=0, microsecond=0)
    return today + timedelta(days=7 * weeks - today.weekday())


async def install(acme: Integrator, tech: str, start: datetime, room: str = "Cinema room") -> str:
    answer = await acme(
        "CreateWorkOrder",
        pb.CreateWorkOrderRequest(
            request_id=_id(),
            project_id=acme.project_id,
            title="Install the cinema",
            room_name=room,
            tasks=["Mount the screen"],
            technician_ids=[tech],
            starts_at=stamp(start),
            ends_at=stamp(start + timedelta(hours=4)),
        ),
        acme.dispatcher,
    )
    return answer.work_order.id


def approved(acme: Integrator, *, days: int = 0, **kw) -> co_events.ChangeOrderApproved:
    values = {
        "change_order_id": str(uuid.uuid4()),
        "project_id": acme.project_id,
        "customer_id": acme.customer_id,
        "number": "CO-001",
        "revision": 2,
        "title": "Second subwoofer",
        "schedule_impact_days": days,
        "shift_from_stage": "install" if days else "",
        "lines": [
            co_pb.LineSummary(
                line_key="CO-001.1",
                room_name="Cinema room",
                description="SVS SB-4000 subwoofer",
                kind=ADDED,
                quantity_after=1,
            ),
            co_pb.LineSummary(
                line_key="R1.2", room_name="Cinema room", description="Cable", kind=REPRICED
            ),
            co_pb.LineSummary(
                line_key="R2.1", room_name="Kitchen", description="Ceiling speaker", kind=ADDED
            ),
        ],
    } | kw
    return co_events.ChangeOrderApproved(**values)


async def order(acme: Integrator, work_order_id: str) -> pb.WorkOrder:
    answer = await acme(
        "GetWorkOrder", pb.GetWorkOrderRequest(work_order_id=work_order_id), acme.dispatcher
    )
    return answer.work_order


async def test_the_rooms_install_visit_takes_the_tasks_once_and_moves_by_the_days(
    acme: Integrator,
):
    await acme.project()
    tech = await acme.technician()
    start = _monday_10(3)
    cinema = await install(acme, tech, start)
    kitchen = await install(acme, tech, start + timedelta(days=1), room="Kitchen")
    event = approved(acme, days=7)
    for _ in range(3):
        await acme.deliver(event)
    got = await order(acme, cinema)
    assert list(got.tasks) == ["Mount the screen", "CO-001: install 1 x SVS SB-4000 subwoofer"]
    assert got.starts_at.ToDatetime(tzinfo=UTC) == start + timedelta(days=7)
    assert not got.conflict
    other = await order(acme, kitchen)
    assert list(other.tasks)[-1].startswith("CO-001: install")
    assert other.starts_at.ToDatetime(tzinfo=UTC) == start + timedelta(days=8)
    updates = await acme.svc.events(acme.tenant_id, booking_events.WorkOrderUpdated)
    assert sorted(u.work_order.id for u in updates) == sorted([cinema, kitchen])


async def test_a_moved_visit_is_one_update_with_its_tasks_in_16_statements(acme: Integrator):
    # The clash is read before the visit changes, so the tasks go out with the
    # move; the time zone is read only to word a clash.
    await acme.project()
    tech = await acme.technician()
    start = _monday_10(3)
    cinema = await install(acme, tech, start)
    with statements_sent(acme.svc.sessions) as sent:
        await acme.deliver(approved(acme, days=7))
    got = await order(acme, cinema)
    assert got.starts_at.ToDatetime(tzinfo=UTC) == start + timedelta(days=7)
    assert list(got.tasks)[-1].startswith("CO-001: install")
    updates = [s for s in sent if s.startswith("UPDATE work_order")]
    assert len(updates) == 2 and "tasks" in updates[0] and "starts_at" in updates[0], updates
    assert not [s for s in sent if "booking_settings" in s]
    assert len(sent) <= 16, "\n".join(sent)
    # The update it publishes names the crew and the project without reading them back.
    (update,) = await acme.svc.events(acme.tenant_id, booking_events.WorkOrderUpdated)
    assert list(update.work_order.technician_ids) == [tech]
    assert update.work_order.project_name == got.project_name != ""
    (work,) = await acme.svc.sql(
        acme.tenant_id, "SELECT work_orders, flagged FROM change_order_work"
    )
    assert tuple(work) == (1, 0)


async def test_a_shift_onto_the_technicians_other_visit_is_flagged_not_double_booked(
    acme: Integrator,
):
    await acme.project()
    tech = await acme.technician()
    start = _monday_10(3)
    cinema = await install(acme, tech, start)
    # The same technician is busy a week later on another project's visit.
    other_project = _id()
    await acme.project(project_id=other_project)
    busy = await acme(
        "CreateWorkOrder",
        pb.CreateWorkOrderRequest(
            request_id=_id(),
            project_id=other_project,
            title="Another install",
            technician_ids=[tech],
            starts_at=stamp(start + timedelta(days=7, hours=1)),
            ends_at=stamp(start + timedelta(days=7, hours=2)),
        ),
        acme.dispatcher,
    )
    await acme.deliver(approved(acme, days=7))
    got = await order(acme, cinema)
    assert got.starts_at.ToDatetime(tzinfo=UTC) == start  # left where it was
    assert "CO-001 moves this visit" in got.conflict
    assert list(got.tasks)[-1].startswith("CO-001: install")  # the work still lands
    flagged = await acme.svc.events(acme.tenant_id, booking_events.WorkOrderConflictFlagged)
    assert [f.work_order.id for f in flagged] == [cinema]
    assert (await order(acme, busy.work_order.id)).starts_at == busy.work_order.starts_at


async def test_a_shift_from_commissioning_leaves_install_visits_where_they_are(acme: Integrator):
    await acme.project()
    tech = await acme.technician()
    start = _monday_10(3)
    cinema = await install(acme, tech, start)
    await acme.deliver(approved(acme, days=5, shift_from_stage="commissioning", lines=[]))
    got = await order(acme, cinema)
    assert got.starts_at.ToDatetime(tzinfo=UTC) == start
    assert list(got.tasks) == ["Mount the screen"]
