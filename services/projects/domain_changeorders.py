"""A change order on the client's status board: "CO-001 Second subwoofer
awaits your approval — by 12 Dec" while it is sent (or viewed) and waiting on
them; approved, pushed back, revised, withdrawn or expired takes it off; the
next revision's send brings it back.

Changeorders' events arrive in any order and more than once, so each is placed
in the order's own lifecycle (`report_order`): revision first, then the step
within it (revised, a new draft < sent = viewed < the revision's end). A report
not after the one held changes nothing, so a late `sent` cannot reopen an
approved order and a redelivery is a no-op. No clock is needed: the order's
revision numbers are changeorders' own sequence."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.chassis import timefmt

WAITING_KIND = "change_order_to_approve"

# Steps within one revision. `revised` carries the new (draft) revision: the
# previous one no longer waits, and the draft does not wait until it is sent.
_DRAFTED, _WAITING, _ENDED = 0, 1, 2
_STEPS = 3

# What each event says about the revision it names.
STEP_OF = {
    "revised": _DRAFTED,
    "sent": _WAITING,
    "viewed": _WAITING,
    "approved": _ENDED,
    "pushed_back": _ENDED,
    "withdrawn": _ENDED,
    "expired": _ENDED,
}


@dataclass(frozen=True)
class Report:
    """One changeorders event, as the board needs it. `title` and `deadline`
    only on `sent` (the others do not carry both), and with them the
    integrator's time zone, whose day the deadline is."""

    event: str
    change_order_id: str
    project_id: str
    number: str
    revision: int
    title: str = ""
    deadline: datetime | None = None
    time_zone: str = ""  # IANA; empty: UTC


@dataclass(frozen=True)
class WaitingPlan:
    report_order: int
    open: bool
    title: str  # empty: keep the title held (viewed names no title)
    link: str


def report_order(report: Report) -> int:
    return max(report.revision, 0) * _STEPS + STEP_OF[report.event]


def title_of(number: str, title: str, deadline: datetime | None, time_zone: str = "") -> str:
    """ "CO-001 Second subwoofer awaits your approval — by 12 Dec": the day on
    the integrator's clock, as the client reads it (23:30 on the 12th in Los
    Angeles is the 13th in UTC; just after midnight in Auckland, the day before)."""
    name = f"{number} {title}".strip()
    day = timefmt.local(deadline, time_zone) if deadline else None
    by = f" — by {day.day} {day:%b}" if day else ""
    return f"{name} awaits your approval{by}"


def link_of(report: Report) -> str:
    return f"/projects/{report.project_id}/change-orders/{report.change_order_id}"


def plan_waiting(held_order: int | None, held_exists: bool, report: Report) -> WaitingPlan | None:
    """What the board keeps after a report: None when it is not news. A `sent`
    is kept at an order equal to the one held (a `viewed` of the same revision
    may have come first, without a title); anything else must be newer. A
    `viewed` with nothing held waits for its `sent` (it carries no title)."""
    order = report_order(report)
    step = STEP_OF[report.event]
    if held_order is not None and (
        order < held_order or (order == held_order and report.event != "sent")
    ):
        return None
    if report.event == "viewed" and not held_exists:
        return None
    if report.event == "sent":
        return WaitingPlan(
            order,
            True,
            title_of(report.number, report.title, report.deadline, report.time_zone),
            link_of(report),
        )
    # An end with nothing held is still kept (resolved), so that a late `sent`
    # of the same revision finds it and stays off the board.
    return WaitingPlan(order, step == _WAITING, "", link_of(report))
