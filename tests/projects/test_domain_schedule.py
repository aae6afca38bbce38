"""What an approved change order does to the stage plan: pure rules."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.chassis.errors import InvalidArgument
from services.projects.domain import Stage
from services.projects.domain_schedule import (
    OrderedMove,
    handover_moved,
    plan_schedule_shift,
)
from services.projects.domain_stages import StageDates

D = date(2027, 3, 1)


def plan() -> dict[Stage, StageDates]:
    """Design done, install under way, the rest planned."""
    return {
        Stage.DESIGN: StageDates(D, D + timedelta(9), D, D + timedelta(9)),
        Stage.PROCUREMENT: StageDates(D + timedelta(10), D + timedelta(19)),
        Stage.INSTALL: StageDates(D + timedelta(20), D + timedelta(29), actual_start=D),
        Stage.COMMISSIONING: StageDates(D + timedelta(30), D + timedelta(34)),
        Stage.HANDOVER: StageDates(D + timedelta(35), D + timedelta(36)),
    }


def test_the_shift_stage_and_every_later_one_move_and_the_forecast_with_them():
    shift = plan_schedule_shift(plan(), days=7, shift_from="install")
    assert set(shift.dates) == {Stage.INSTALL, Stage.COMMISSIONING, Stage.HANDOVER}
    assert shift.dates[Stage.HANDOVER].planned_finish == D + timedelta(43)
    assert shift.dates[Stage.INSTALL].actual_start == D  # what happened stays
    assert (shift.handover_before, shift.handover_after) == (D + timedelta(36), D + timedelta(43))
    assert shift.moves_handover


def test_a_finished_stage_keeps_its_plan():
    shift = plan_schedule_shift(plan(), days=3, shift_from="design")
    assert Stage.DESIGN not in shift.dates
    assert shift.dates[Stage.PROCUREMENT].planned_start == D + timedelta(13)


def test_a_stage_still_planned_as_the_order_saw_it_takes_the_printed_dates():
    printed = OrderedMove(
        Stage.HANDOVER,
        start_before=D + timedelta(35),
        finish_before=D + timedelta(36),
        start_after=D + timedelta(37),
        finish_after=D + timedelta(38),
    )
    shift = plan_schedule_shift(plan(), days=2, shift_from="handover", moves=[printed])
    assert shift.dates[Stage.HANDOVER].planned_finish == D + timedelta(38)


def test_a_stage_re_planned_since_the_order_was_drafted_moves_by_its_days_from_now():
    stale = OrderedMove(
        Stage.HANDOVER,
        start_before=D,
        finish_before=D + timedelta(1),
        start_after=D + timedelta(2),
        finish_after=D + timedelta(3),
    )
    shift = plan_schedule_shift(plan(), days=2, shift_from="handover", moves=[stale])
    # Not the order's printed dates: the plan as it is now, two days later.
    assert shift.dates[Stage.HANDOVER] == StageDates(D + timedelta(37), D + timedelta(38))


def test_no_days_move_nothing_and_unplanned_stages_stay_unplanned():
    assert plan_schedule_shift(plan(), days=0, shift_from="").dates == {}
    bare = {Stage.HANDOVER: StageDates()}
    shift = plan_schedule_shift(bare, days=5, shift_from="install")
    assert shift.dates == {} and not shift.moves_handover


@pytest.mark.parametrize(
    ("days", "shift_from", "field"),
    [
        (4, "snagging", "shift_from_stage"),
        (4, "", "shift_from_stage"),
        (400, "install", "schedule_impact_days"),
    ],
)
def test_an_impact_it_cannot_apply_names_its_field(days: int, shift_from: str, field: str):
    with pytest.raises(InvalidArgument) as refused:
        plan_schedule_shift(plan(), days=days, shift_from=shift_from)
    assert refused.value.field == field


def test_the_board_says_which_order_moved_handover_only_while_it_is_still_true():
    moved = handover_moved(D, by="CO-003", from_date=D - timedelta(7), to_date=D)
    assert moved is not None and (moved.by, moved.from_date) == ("CO-003", D - timedelta(7))
    # Staff re-planned handover since: the forecast is no longer the order's.
    assert handover_moved(D + timedelta(1), by="CO-003", from_date=D, to_date=D) is None
    assert handover_moved(D, by="", from_date=None, to_date=None) is None


days_st = st.integers(min_value=-365, max_value=365)
day_st = st.dates(min_value=date(2020, 1, 1), max_value=date(2090, 1, 1))


@st.composite
def plans(draw: st.DrawFn) -> dict[Stage, StageDates]:
    out = {}
    for stage in Stage:
        start = draw(st.none() | day_st)
        finish = start + timedelta(draw(st.integers(0, 60))) if start else None
        actual = draw(st.none() | day_st)
        finished = actual is not None and draw(st.booleans())
        done = actual + timedelta(draw(st.integers(0, 60))) if actual and finished else None
        out[stage] = StageDates(start, finish, actual, done)
    return out


def _apply(dates: dict[Stage, StageDates], days: int, shift_from: str) -> dict[Stage, StageDates]:
    return {**dates, **plan_schedule_shift(dates, days=days, shift_from=shift_from).dates}


@given(plans(), days_st, st.sampled_from([s.name.lower() for s in Stage]))
def test_shifting_then_unshifting_is_the_plan_again(dates, days, shift_from):
    assert _apply(_apply(dates, days, shift_from), -days, shift_from) == dates


@given(plans(), days_st, st.sampled_from([s.name.lower() for s in Stage]))
def test_actual_dates_never_move_and_planned_order_holds(dates, days, shift_from):
    after = _apply(dates, days, shift_from)
    for stage, new in after.items():
        old = dates[stage]
        assert (new.actual_start, new.actual_finish) == (old.actual_start, old.actual_finish)
        if new.planned_start and new.planned_finish:
            assert new.planned_start <= new.planned_finish
