"""Stage plans: date validation, what a move writes, the forecast handover."""

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

import pytest

from services.chassis.errors import InvalidArgument
from services.projects.domain import Stage, plan_stage_move
from services.projects.domain_stages import (
    StageDates,
    change_stage_plan,
    check_client_note,
    check_stage_dates,
    dates_after_move,
    forecast_handover,
    latest_news,
    parse_date,
    parse_stage,
    plan_stage_change,
)

TODAY = date(2026, 3, 10)


def dates(**kw: str) -> StageDates:
    values = {"planned_start": "", "planned_finish": "", "actual_start": "", "actual_finish": ""}
    values.update(kw)
    return check_stage_dates(**values)


def test_dates_are_iso_calendar_dates_or_empty():
    assert parse_date("2026-02-28", field="planned_start") == date(2026, 2, 28)
    assert parse_date("  ", field="planned_start") is None


@pytest.mark.parametrize("value", ["2026-2-28", "28/02/2026", "20260228", "2026-W09-6", "soon"])
def test_other_date_shapes_are_refused_with_the_field_name(value):
    with pytest.raises(InvalidArgument, match="planned start must be a date as YYYY-MM-DD") as err:
        parse_date(value, field="planned_start")
    assert err.value.field == "planned_start"


def test_impossible_and_implausible_dates_are_refused():
    with pytest.raises(InvalidArgument, match="not a real date"):
        parse_date("2026-02-30", field="actual_finish")
    with pytest.raises(InvalidArgument, match="between"):
        parse_date("1925-01-01", field="actual_finish")


def test_finish_may_not_come_before_start():
    assert dates(planned_start="2026-03-01", planned_finish="2026-03-01").planned_finish == date(
        2026, 3, 1
    )
    with pytest.raises(InvalidArgument, match="planned finish cannot be before") as err:
        dates(planned_start="2026-03-02", planned_finish="2026-03-01")
    assert err.value.field == "planned_finish"
    with pytest.raises(InvalidArgument, match="actual finish cannot be before") as err:
        dates(actual_start="2026-03-02", actual_finish="2026-03-01")
    assert err.value.field == "actual_finish"


def test_one_side_alone_is_fine():
    assert dates(planned_finish="2026-05-01").planned_start is None
    assert dates(actual_finish="2026-05-01").actual_finish == date(2026, 5, 1)


def test_client_note_is_trimmed_and_bounded():
    assert check_client_note("  Rack arrives Tuesday ") == "Rack arrives Tuesday"
    with pytest.raises(InvalidArgument) as err:
        check_client_note("x" * 2001)
    assert err.value.field == "client_note"


def move(current: Stage, target: Stage, reason: str = ""):
    return plan_stage_move(current, target, reason=reason, client_note="")


def test_moving_forward_finishes_the_stage_left_and_starts_the_next():
    plan = {Stage.DESIGN: StageDates(actual_start=date(2026, 3, 1))}
    changed = dates_after_move(move(Stage.DESIGN, Stage.PROCUREMENT), plan, TODAY)
    assert changed[Stage.DESIGN] == StageDates(actual_start=date(2026, 3, 1), actual_finish=TODAY)
    assert changed[Stage.PROCUREMENT].actual_start == TODAY


def test_a_recorded_start_is_kept():
    plan = {Stage.INSTALL: StageDates(actual_start=date(2026, 3, 5), planned_finish=TODAY)}
    changed = dates_after_move(move(Stage.DESIGN, Stage.INSTALL), plan, TODAY)
    assert Stage.INSTALL not in changed  # already started: nothing to write
    assert Stage.PROCUREMENT not in changed  # skipped: never started


def test_a_finish_is_never_before_a_recorded_start():
    plan = {Stage.DESIGN: StageDates(actual_start=date(2026, 3, 20))}
    changed = dates_after_move(move(Stage.DESIGN, Stage.PROCUREMENT), plan, TODAY)
    assert changed[Stage.DESIGN].actual_finish == date(2026, 3, 20)


def test_moving_forward_keeps_a_finish_staff_recorded():
    """The demo board showed Design "Finished" today above Install "Started"
    weeks ago: the move had written today over the finish staff recorded."""
    design = StageDates(actual_start=date(2026, 1, 5), actual_finish=date(2026, 2, 1))
    procurement = StageDates(actual_start=date(2026, 2, 2))
    changed = dates_after_move(
        move(Stage.DESIGN, Stage.PROCUREMENT),
        {Stage.DESIGN: design, Stage.PROCUREMENT: procurement},
        TODAY,
    )
    assert changed == {}  # both recorded already: the move writes nothing


def test_moving_forward_keeps_a_recorded_finish_even_one_still_ahead():
    recorded = StageDates(actual_start=date(2026, 3, 1), actual_finish=date(2026, 3, 12))
    changed = dates_after_move(
        move(Stage.INSTALL, Stage.COMMISSIONING), {Stage.INSTALL: recorded}, TODAY
    )
    assert Stage.INSTALL not in changed
    assert changed[Stage.COMMISSIONING] == StageDates(actual_start=TODAY)


def test_moving_forward_fills_in_only_the_missing_side():
    left = StageDates(actual_finish=date(2026, 3, 8))  # finish recorded, start never was
    entered = StageDates(planned_start=date(2026, 3, 9))  # planned, not started
    changed = dates_after_move(
        move(Stage.DESIGN, Stage.PROCUREMENT),
        {Stage.DESIGN: left, Stage.PROCUREMENT: entered},
        TODAY,
    )
    assert changed == {
        Stage.PROCUREMENT: StageDates(planned_start=date(2026, 3, 9), actual_start=TODAY)
    }


def test_a_move_into_a_stage_finished_before_today_but_never_started_is_refused():
    """The database holds actual_finish >= actual_start; starting the stage
    today after the finish staff recorded would break it (a 500 before)."""
    plan = {Stage.INSTALL: StageDates(actual_finish=date(2026, 3, 1))}
    with pytest.raises(InvalidArgument, match="Install has an actual finish") as err:
        dates_after_move(move(Stage.DESIGN, Stage.INSTALL), plan, TODAY)
    assert err.value.field == "actual_finish"
    later = {Stage.INSTALL: StageDates(actual_finish=date(2026, 3, 30))}  # still ahead: fine
    changed = dates_after_move(move(Stage.DESIGN, Stage.INSTALL), later, TODAY)
    assert changed[Stage.INSTALL] == StageDates(actual_start=TODAY, actual_finish=date(2026, 3, 30))


def test_a_move_reason_and_note_keep_lines_but_no_other_control_character():
    moved = plan_stage_move(
        Stage.INSTALL, Stage.DESIGN, reason="Client\r\nchanged plans", client_note="\tSee you"
    )
    assert (moved.reason, moved.client_note) == ("Client\nchanged plans", "See you")
    for reason, note, field in (("Late\x00", "", "reason"), ("Late", "Hi\x07", "client_note")):
        with pytest.raises(InvalidArgument) as err:
            plan_stage_move(Stage.INSTALL, Stage.DESIGN, reason=reason, client_note=note)
        assert err.value.field == field


def test_moving_back_reopens_the_stage():
    plan = {
        Stage.PROCUREMENT: StageDates(
            actual_start=date(2026, 3, 1), actual_finish=date(2026, 3, 5)
        ),
        Stage.INSTALL: StageDates(actual_start=date(2026, 3, 5)),
    }
    changed = dates_after_move(
        move(Stage.INSTALL, Stage.PROCUREMENT, "Projector back-ordered"), plan, TODAY
    )
    assert changed == {
        Stage.PROCUREMENT: StageDates(actual_start=date(2026, 3, 1), actual_finish=None)
    }


def test_moving_back_keeps_every_other_stage_s_dates():
    """Install did start on the 5th: going back to procurement does not unsay it
    (an upcoming stage shows only its plan), and going forward again keeps it."""
    install = StageDates(actual_start=date(2026, 3, 5))
    design = StageDates(actual_start=date(2026, 2, 1), actual_finish=date(2026, 2, 20))
    plan = {
        Stage.DESIGN: design,
        Stage.PROCUREMENT: StageDates(
            actual_start=date(2026, 2, 21), actual_finish=date(2026, 3, 4)
        ),
        Stage.INSTALL: install,
    }
    back = dates_after_move(move(Stage.INSTALL, Stage.PROCUREMENT, "Wrong projector"), plan, TODAY)
    assert set(back) == {Stage.PROCUREMENT}
    plan |= back
    again = dates_after_move(move(Stage.PROCUREMENT, Stage.INSTALL), plan, TODAY)
    assert again == {Stage.PROCUREMENT: replace(back[Stage.PROCUREMENT], actual_finish=TODAY)}


def test_moving_back_to_a_stage_never_started_starts_it_today():
    """Procurement was skipped; going back to it means it is under way now."""
    changed = dates_after_move(
        move(Stage.INSTALL, Stage.PROCUREMENT, "Rack needed after all"),
        {Stage.INSTALL: StageDates(actual_start=date(2026, 3, 5))},
        TODAY,
    )
    assert changed == {Stage.PROCUREMENT: StageDates(actual_start=TODAY)}


def test_moving_back_to_a_stage_still_open_changes_nothing():
    open_design = {Stage.DESIGN: StageDates(actual_start=date(2026, 3, 1))}
    changed = dates_after_move(move(Stage.INSTALL, Stage.DESIGN, "Redesign"), open_design, TODAY)
    assert changed == {}


def test_forecast_is_the_handover_plan():
    plan = {
        Stage.INSTALL: StageDates(planned_finish=date(2026, 6, 30)),
        Stage.HANDOVER: StageDates(planned_finish=date(2026, 6, 1)),
    }
    assert forecast_handover(plan) == date(2026, 6, 1)


def test_forecast_falls_back_to_the_latest_planned_finish():
    plan = {
        Stage.DESIGN: StageDates(planned_finish=date(2026, 4, 1)),
        Stage.INSTALL: StageDates(planned_finish=date(2026, 6, 30)),
        Stage.COMMISSIONING: StageDates(planned_start=date(2026, 7, 30)),
        Stage.HANDOVER: StageDates(),
    }
    assert forecast_handover(plan) == date(2026, 6, 30)


def test_forecast_is_unknown_without_plans_and_the_day_itself_once_handed_over():
    assert forecast_handover({}) is None
    assert forecast_handover({Stage.DESIGN: StageDates(actual_start=TODAY)}) is None
    done = {
        Stage.HANDOVER: StageDates(planned_finish=date(2026, 6, 1), actual_finish=date(2026, 6, 3))
    }
    assert forecast_handover(done) == date(2026, 6, 3)


def test_changing_a_stage_plan_keeps_the_rest_and_orders_against_it():
    current = StageDates(planned_start=date(2026, 6, 1), planned_finish=date(2026, 6, 20))
    dates, note = change_stage_plan(current, "On site", {"actual_start": "2026-06-02"})
    assert (dates.planned_finish, dates.actual_start, note) == (
        date(2026, 6, 20),
        date(2026, 6, 2),
        "On site",
    )
    assert change_stage_plan(current, "On site", {"client_note": "  "})[1] == ""
    with pytest.raises(InvalidArgument) as refused:
        change_stage_plan(current, "", {"planned_finish": "2026-05-01"})
    assert refused.value.field == "planned_finish"


def test_parse_stage_names_the_field_for_an_unknown_stage():
    assert parse_stage(3) == Stage(3)
    with pytest.raises(InvalidArgument) as err:
        parse_stage(42)
    assert err.value.field == "stage"


def test_plan_stage_change_moves_forward_with_the_dates_and_the_note():
    current, target = Stage(1), Stage(3)
    plan = plan_stage_change(
        current,
        target,
        reason="",
        client_note="  Racks arrive Monday ",
        dates={current: StageDates(actual_start=date(2026, 3, 1))},
        now=datetime(2026, 3, 10, 15, 0, tzinfo=UTC),
        time_zone="UTC",
    )
    assert (plan.move.from_stage, plan.move.to_stage) == (current, target)
    assert plan.note == "Racks arrive Monday"
    assert plan.dates[current].actual_finish == TODAY
    assert plan.dates[target].actual_start == TODAY


def test_plan_stage_change_refuses_a_move_back_without_a_reason():
    with pytest.raises(InvalidArgument) as err:
        plan_stage_change(
            Stage(3), Stage(1), reason=" ", client_note="", dates={}, now=AT, time_zone="UTC"
        )
    assert err.value.field == "reason"


@dataclass(frozen=True)
class Said:
    to_stage: int
    client_note: str
    changed_at: datetime


AT = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


def test_latest_news_has_a_note_staff_wrote_on_a_stage_not_only_moves_notes():
    """The demo board said "No news yet" beside Install's note: only moves' notes were news."""
    wrote = Said(Stage.INSTALL, "Projector mount on Thursday.", AT)
    assert latest_news([], [wrote], limit=5) == [wrote]


def test_latest_news_lists_a_move_s_note_once_though_the_stage_carries_it_too():
    moved = Said(Stage.PROCUREMENT, "Equipment ordered", AT)
    kept = Said(Stage.PROCUREMENT, " Equipment ordered ", AT)  # what the move wrote on the stage
    design = Said(Stage.DESIGN, "Design approved", AT - timedelta(days=9))
    assert latest_news([moved], [kept, design], limit=5) == [moved, design]


def test_latest_news_is_newest_first_and_at_most_the_limit():
    moves = [Said(Stage.INSTALL, f"move {n}", AT - timedelta(hours=2 * n)) for n in range(3)]
    stage = Said(Stage.INSTALL, "on the stage", AT - timedelta(hours=3))
    empty = Said(Stage.HANDOVER, "  ", AT + timedelta(hours=1))  # cleared: no news
    listed = latest_news(moves, [stage, empty], limit=3)
    assert [n.client_note for n in listed] == ["move 0", "move 1", "on the stage"]
