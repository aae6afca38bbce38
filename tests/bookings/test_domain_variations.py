"""The change order's work on install visits: tasks per room once, the
install stage's shift on visits still to come, in a safe order."""

from datetime import UTC, datetime, timedelta

from services.bookings import domain_variations as v
from services.bookings.domain_bookings import WorkOrderStatus

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def order(i: str, day: int, room: str = "Cinema room", **kw) -> v.Order:
    start = NOW + timedelta(days=day)
    values = {
        "id": i,
        "status": WorkOrderStatus.SCHEDULED,
        "room_name": room,
        "tasks": ("Mount the screen",),
        "starts_at": start,
        "ends_at": start + timedelta(hours=3),
    } | kw
    return v.Order(**values)


LINES = [
    v.ChangedLine("cinema  ROOM", "Subwoofer", "added", 0, 2),
    v.ChangedLine("Cinema room", "Cable", "repriced", 3, 3),
    v.ChangedLine("Cinema room", "Rear speaker", "quantity", 2, 4),
    v.ChangedLine("Kitchen", "Speaker", "removed", 2, 0),
]


def plan(orders, *, days=0, shift_from="install", start_before=None, lines=LINES):
    return v.plan_variation_work(
        number="CO-003",
        orders=orders,
        lines=lines,
        days=days,
        shift_from_stage=shift_from,
        install_start_before=start_before,
        now=NOW,
    )


def test_tasks_go_to_the_rooms_visits_and_a_price_change_is_no_work():
    (change,) = plan([order("a", 3), order("b", 4, room="Bedroom")]).changes
    assert change.id == "a" and not change.moved
    assert change.added_tasks == (
        "CO-003: install 2 x Subwoofer",
        "CO-003: now 4 x Rear speaker (was 2)",
    )


def test_labour_reads_as_hours_of_work_not_items_to_install():
    lines = [
        v.ChangedLine("Cinema room", "Calibration", "added", 0, 4, labour=True),
        v.ChangedLine("Cinema room", "Cable dressing", "quantity", 2, 3, labour=True),
        v.ChangedLine("Cinema room", "Programming", "removed", 6, 0, labour=True),
        v.ChangedLine("Cinema room", "Rack wiring", "repriced", 5, 5, labour=True),
    ]
    (change,) = plan([order("a", 3)], lines=lines).changes
    assert change.added_tasks == (
        "CO-003: Calibration (4 h)",
        "CO-003: Cable dressing now 3 h (was 2 h)",
        "CO-003: leave out Programming (6 h)",
    )


def test_tasks_already_there_are_not_added_twice():
    first = plan([order("a", 3)]).changes[0]
    again = plan([order("a", 3, tasks=first.tasks)])
    assert again.changes == ()


def test_a_shift_moves_visits_still_to_come_latest_first_when_later():
    orders = [order("a", 3), order("b", 5), order("started", -1), order("done", 6)]
    orders[3] = order("done", 6, status=WorkOrderStatus.COMPLETED)
    changes = plan(orders, days=2, lines=[]).changes
    assert [c.id for c in changes] == ["b", "a"]
    assert changes[0].starts_at == NOW + timedelta(days=7)
    sooner = plan(orders, days=-1, lines=[]).changes
    assert [c.id for c in sooner] == ["a", "b"]


def test_only_a_shift_that_moves_the_install_stage_moves_install_visits():
    assert plan([order("a", 3)], days=4, shift_from="handover", lines=[]).changes == ()
    assert plan([order("a", 3)], days=4, shift_from="design", lines=[]).changes[0].moved


def test_visits_before_the_install_stage_start_stay():
    start = (NOW + timedelta(days=4)).date()
    work = plan([order("pre-wire", 2), order("a", 5)], days=3, start_before=start, lines=[])
    assert [c.id for c in work.changes] == ["a"]
