"""An approved change order on the dispatch calendar: the install work
orders of the rooms it changes take its lines as tasks, and a schedule
shift that moves the install stage moves the install visits still to come
by its days. What lands on a technician's other visit is the dispatcher's to
resolve (the service flags it); it is never double-booked.

Pure: the caller loads the project's install work orders and passes `now`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from services.bookings.domain_bookings import MAX_TASKS, WorkOrderStatus

INSTALL_STAGE = "install"
# The stages in the order a project goes through them (changeorders' names).
STAGES = ("design", "procurement", "install", "commissioning", "handover")
WAITING = frozenset({WorkOrderStatus.PENDING, WorkOrderStatus.SCHEDULED})
TASK_MAX_LEN = 300


@dataclass(frozen=True)
class ChangedLine:
    room_name: str
    description: str
    kind: str  # added, removed, quantity, swapped, repriced, labour
    quantity_before: int
    quantity_after: int
    labour: bool = False  # its quantity is hours, not items


@dataclass(frozen=True)
class Order:
    """The facts of one install work order the rules read."""

    id: str
    status: WorkOrderStatus
    room_name: str
    tasks: tuple[str, ...]
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True)
class OrderChange:
    id: str
    tasks: tuple[str, ...]  # the whole list after
    added_tasks: tuple[str, ...]
    starts_at: datetime
    ends_at: datetime
    moved: bool


@dataclass(frozen=True)
class VariationWork:
    """What the order does to the project's install visits, in the order the
    service should apply them (a move later goes latest first, so a visit
    never lands on its sibling's old slot before that one has moved)."""

    changes: tuple[OrderChange, ...] = field(default_factory=tuple)


def task_for(number: str, line: ChangedLine) -> str | None:
    """A line as a technician reads it; a price-only change is no work."""
    what = line.description.strip() or "item"
    if line.labour:
        return _labour_task(number, line, what)
    if line.kind == "added":
        text = f"{line.quantity_after} x {what}"
        verb = "install"
    elif line.kind == "removed":
        verb, text = "leave out", f"{line.quantity_before} x {what}"
    elif line.kind == "quantity":
        verb, text = "now", f"{line.quantity_after} x {what} (was {line.quantity_before})"
    elif line.kind == "swapped":
        verb, text = "install instead", f"{line.quantity_after} x {what}"
    else:
        return None
    return f"{number}: {verb} {text}"[:TASK_MAX_LEN]


def _labour_task(number: str, line: ChangedLine, what: str) -> str | None:
    """Hours of work, not items to fit: "install 4 x calibration" misleads."""
    before, after = line.quantity_before, line.quantity_after
    if line.kind in ("added", "swapped"):
        text = f"{what} ({after} h)"
    elif line.kind == "removed":
        text = f"leave out {what} ({before} h)"
    elif line.kind == "quantity":
        text = f"{what} now {after} h (was {before} h)"
    else:
        return None
    return f"{number}: {text}"[:TASK_MAX_LEN]


def install_moves(shift_from_stage: str, days: int) -> bool:
    """Does a shift from this stage move the install stage?"""
    if days == 0 or shift_from_stage not in STAGES:
        return False
    return STAGES.index(shift_from_stage) <= STAGES.index(INSTALL_STAGE)


def plan_variation_work(
    *,
    number: str,
    orders: Sequence[Order],
    lines: Sequence[ChangedLine],
    days: int,
    shift_from_stage: str,
    install_start_before: date | None,
    now: datetime,
) -> VariationWork:
    """Per install work order still waiting (pending or scheduled, not yet
    started): the tasks of its room's lines added once, and its window moved
    by `days` when the install stage moves (only visits from the install
    stage's planned start on, when that date is known)."""
    by_room: dict[str, list[str]] = {}
    for line in lines:
        task = task_for(number, line)
        if task is not None:
            by_room.setdefault(_room(line.room_name), []).append(task)
    shift = timedelta(days=days) if install_moves(shift_from_stage, days) else timedelta(0)
    changes = []
    for order in orders:
        if order.status not in WAITING or order.starts_at <= now:
            continue
        wanted = [t for t in by_room.get(_room(order.room_name), []) if t not in order.tasks]
        tasks = (*order.tasks, *wanted)[:MAX_TASKS]
        added = tasks[len(order.tasks) :]
        moves = shift and (
            install_start_before is None or order.starts_at.date() >= install_start_before
        )
        delta = shift if moves else timedelta(0)
        if not added and not delta:
            continue
        changes.append(
            OrderChange(
                order.id,
                tasks,
                added,
                order.starts_at + delta,
                order.ends_at + delta,
                moved=bool(delta),
            )
        )
    # Later first when moving later, earlier first when moving sooner.
    changes.sort(key=lambda c: c.starts_at, reverse=days > 0)
    return VariationWork(tuple(changes))


def _room(name: str) -> str:
    return " ".join(name.split()).casefold()
