"""What an approved change order does to the stage plan. Pure: the stage
dates and the order's schedule impact are passed in.

changeorders works out the stage dates "before" and "after" when staff draft
the order, from the plan as it was then; by the time the client approves,
staff may have re-planned a stage. The order's promise to the client is "this
adds N days from stage S on", not the exact dates it printed, so a stage
still planned as the order saw it takes the order's "after" dates, and a
stage re-planned since (or planned only since) moves by N days from its dates
now: what a dispatcher would expect. Earlier stages keep their plan.
A finished stage keeps its plan too (it is history), and actual dates never
move: an order changes the forecast, not what happened.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta

from services.chassis.errors import InvalidArgument
from services.projects.domain import Stage
from services.projects.domain_stages import EARLIEST, LATEST, StageDates, forecast_handover

MAX_DAYS = 365  # changeorders' own bound on a schedule impact


@dataclass(frozen=True)
class OrderedMove:
    """A stage's planned dates before and after, as the order printed them."""

    stage: Stage
    start_before: date | None = None
    finish_before: date | None = None
    start_after: date | None = None
    finish_after: date | None = None


@dataclass(frozen=True)
class ScheduleShift:
    """What approving the order writes into the plan."""

    dates: dict[Stage, StageDates]  # only the stages whose planned dates change
    handover_before: date | None  # the forecast handover before and after
    handover_after: date | None

    @property
    def moves_handover(self) -> bool:
        return self.handover_before != self.handover_after


def parse_stage_name(value: str, *, field: str) -> Stage:
    """A stage as changeorders names it ("commissioning")."""
    try:
        return Stage[value.strip().upper()]
    except KeyError:
        raise InvalidArgument(
            f"{field.replace('_', ' ')} must be one of "
            + ", ".join(s.name.lower() for s in Stage)
            + f", not {value!r}",
            field=field,
        ) from None


def _shifted(value: date | None, days: int) -> date | None:
    if value is None:
        return None
    moved = value + timedelta(days=days)
    if not EARLIEST <= moved <= LATEST:
        raise InvalidArgument(
            f"moving {value.isoformat()} by {days} days leaves the planning calendar",
            field="schedule_impact_days",
        )
    return moved


def plan_schedule_shift(
    dates: Mapping[Stage, StageDates],
    *,
    days: int,
    shift_from: str,
    moves: Sequence[OrderedMove] = (),
) -> ScheduleShift:
    """The planned dates the approved order moves (see the module docstring)."""
    before = forecast_handover(dates)
    if days == 0:
        return ScheduleShift({}, before, before)
    if not -MAX_DAYS <= days <= MAX_DAYS:
        raise InvalidArgument(
            f"a schedule impact is between -{MAX_DAYS} and {MAX_DAYS} days",
            field="schedule_impact_days",
        )
    first = parse_stage_name(shift_from, field="shift_from_stage")
    printed = {m.stage: m for m in moves}
    changed: dict[Stage, StageDates] = {}
    for stage in Stage:
        now = dates.get(stage, StageDates())
        if stage < first or now.actual_finish is not None:
            continue
        move = printed.get(stage)
        if move is not None and (move.start_before, move.finish_before) == (
            now.planned_start,
            now.planned_finish,
        ):
            start, finish = move.start_after, move.finish_after
        else:
            start, finish = _shifted(now.planned_start, days), _shifted(now.planned_finish, days)
        if start and finish and finish < start:
            # Only an order that printed a nonsense "after" gets here.
            raise InvalidArgument(
                f"{stage.label} would finish before it starts", field="stage_moves"
            )
        new = replace(now, planned_start=start, planned_finish=finish)
        if new != now:
            changed[stage] = new
    after = forecast_handover({**dates, **changed})
    return ScheduleShift(changed, before, after)


@dataclass(frozen=True)
class HandoverMoved:
    """The board's "moved by CO-003" beside the forecast handover."""

    by: str  # the change order's number
    from_date: date


def handover_moved(
    forecast: date | None, *, by: str, from_date: date | None, to_date: date | None
) -> HandoverMoved | None:
    """The order that last moved the forecast, while the forecast is still what
    it made it: once staff re-plan handover by hand the note would be untrue."""
    if not by or from_date is None or forecast is None or forecast != to_date:
        return None
    return HandoverMoved(by, from_date)
