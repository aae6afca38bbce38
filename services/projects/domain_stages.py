"""Stage plans: planned and actual dates, the client's note, what a stage move
does to the dates, and the forecast handover. Pure: the moment (`now`) and
the integrator's time zone are passed in; "today" is the day on that clock."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Protocol, TypeVar

from services.chassis import timefmt
from services.chassis.errors import InvalidArgument
from services.chassis.validation import multiline_text
from services.projects.domain import Stage, StageMove, plan_stage_move

NOTE_MAX = 2000
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# Outside these a date is a typo (2O25, 1925), not a plan.
EARLIEST = date(2000, 1, 1)
LATEST = date(2100, 12, 31)


@dataclass(frozen=True)
class StageDates:
    planned_start: date | None = None
    planned_finish: date | None = None
    actual_start: date | None = None
    actual_finish: date | None = None


def parse_date(value: str, *, field: str) -> date | None:
    """A calendar date "YYYY-MM-DD", or None for empty."""
    value = value.strip()
    if not value:
        return None
    label = field.replace("_", " ")
    if not _ISO_DATE.fullmatch(value):
        raise InvalidArgument(f"{label} must be a date as YYYY-MM-DD", field=field)
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        raise InvalidArgument(f"{label} is not a real date: {value}", field=field) from None
    if not EARLIEST <= parsed <= LATEST:
        raise InvalidArgument(
            f"{label} must be between {EARLIEST.isoformat()} and {LATEST.isoformat()}",
            field=field,
        )
    return parsed


def format_date(value: date | None) -> str:
    return value.isoformat() if value else ""


def check_stage_dates(
    *, planned_start: str, planned_finish: str, actual_start: str, actual_finish: str
) -> StageDates:
    dates = StageDates(
        planned_start=parse_date(planned_start, field="planned_start"),
        planned_finish=parse_date(planned_finish, field="planned_finish"),
        actual_start=parse_date(actual_start, field="actual_start"),
        actual_finish=parse_date(actual_finish, field="actual_finish"),
    )
    if dates.planned_start and dates.planned_finish and dates.planned_finish < dates.planned_start:
        raise InvalidArgument(
            "planned finish cannot be before planned start", field="planned_finish"
        )
    if finishes_before_start(dates):
        raise InvalidArgument("actual finish cannot be before actual start", field="actual_finish")
    return dates


def finishes_before_start(dates: StageDates) -> bool:
    """The order the database holds every stage to (ck_project_stage_actual_order)."""
    start, finish = dates.actual_start, dates.actual_finish
    return start is not None and finish is not None and finish < start


def tenant_today(now: datetime, time_zone: str) -> date:
    """The day it is on the integrator's clock, not the server's: a move made
    at 23:30 in Los Angeles is that day's, though UTC is already on the next.
    An unknown or empty zone reads as UTC (timefmt.zone); a naive `now` is refused."""
    return timefmt.local(now, time_zone).date()


def check_client_note(note: str) -> str:
    return multiline_text(note, field="client_note", max_len=NOTE_MAX)


def note_written_at(written_at: datetime | None, now: datetime) -> datetime:
    """When a stage's note was written: `now`, unless the caller records a note
    written earlier (an import, the demo seed's history). Never later than now:
    a note from the future would head the board's news until that day came."""
    if written_at is None:
        return now
    if written_at > now:
        raise InvalidArgument("a note cannot be written in the future", field="note_written_at")
    if written_at.date() < EARLIEST:
        raise InvalidArgument(
            f"a note's date must be after {EARLIEST.isoformat()}", field="note_written_at"
        )
    return written_at


STAGE_FIELDS = ("planned_start", "planned_finish", "actual_start", "actual_finish", "client_note")


def change_stage_plan(
    dates: StageDates, note: str, changes: Mapping[str, str]
) -> tuple[StageDates, str]:
    """The stage's dates and note with `changes` (field name -> "YYYY-MM-DD",
    "" to clear, or the note) applied; the order of the dates is checked on the
    result, so changing only a finish is checked against the start already set."""
    merged = {
        "planned_start": format_date(dates.planned_start),
        "planned_finish": format_date(dates.planned_finish),
        "actual_start": format_date(dates.actual_start),
        "actual_finish": format_date(dates.actual_finish),
    } | {k: v for k, v in changes.items() if k != "client_note"}
    new_note = check_client_note(changes["client_note"]) if "client_note" in changes else note
    return check_stage_dates(**merged), new_note


def dates_after_move(
    move: StageMove, dates: Mapping[Stage, StageDates], today: date
) -> dict[Stage, StageDates]:
    """What a stage move writes into the plan; returns only the stages that change.

    A move fills in what nobody recorded and never overwrites what staff did:
    the day something actually happened is history, and today is only a guess
    at it. Forward: the stage left is finished today unless its finish is
    recorded; the stage entered is started today unless its start is. Backward:
    the stage entered is open again, so its finish is cleared (the move's
    history row keeps when and why) and its start kept (today if it never
    started); every other stage keeps its dates, since that work did start or
    finish on those days, and an upcoming stage shows only its plan.
    """
    changed: dict[Stage, StageDates] = {}
    left = dates.get(move.from_stage, StageDates())
    entered = dates.get(move.to_stage, StageDates())
    if not move.backwards:
        if left.actual_finish is None:
            # Never a finish before the recorded start (staff may have typed a future start).
            finish = max(today, left.actual_start) if left.actual_start else today
            changed[move.from_stage] = replace(left, actual_finish=finish)
        if entered.actual_start is None:
            changed[move.to_stage] = replace(entered, actual_start=today)
    else:
        reopened = replace(entered, actual_start=entered.actual_start or today, actual_finish=None)
        if reopened != entered:
            changed[move.to_stage] = reopened
    entered_now = changed.get(move.to_stage)
    if entered_now is not None and finishes_before_start(entered_now):
        # Staff recorded when this stage finished but not when it started:
        # starting it today would put the start after the finish.
        label = move.to_stage.label
        raise InvalidArgument(
            f"{label} has an actual finish ({entered_now.actual_finish}) but no start; "
            f"moving to it today would start it after it finished. Set {label}'s actual "
            "start, or clear its finish, then move the project",
            field="actual_finish",
        )
    return changed


class Note(Protocol):
    """A note to the client about a stage: a move's, or the stage's own."""

    @property
    def to_stage(self) -> int: ...
    @property
    def client_note(self) -> str: ...
    @property
    def changed_at(self) -> datetime: ...


N = TypeVar("N", bound=Note)


def latest_news(moves: Sequence[N], stage_notes: Sequence[N], *, limit: int) -> list[N]:
    """What "Latest from the team" lists: the notes moves carried and each
    stage's current note, newest first, at most `limit`. A move's note is also
    written onto the stage it enters, so a stage note that one of `moves`
    carried is that move's, not news twice."""
    carried = {(m.to_stage, m.client_note.strip()) for m in moves}
    own = [
        n
        for n in stage_notes
        if n.client_note.strip() and (n.to_stage, n.client_note.strip()) not in carried
    ]
    # Stable: at the same instant a move stays ahead of a stage's own note.
    return sorted([*moves, *own], key=lambda n: n.changed_at, reverse=True)[:limit]


def forecast_handover(dates: Mapping[Stage, StageDates]) -> date | None:
    """When the client can expect handover: the day it happened if it has; else
    the handover stage's planned finish; else the latest planned finish of any
    stage; else unknown."""
    handover = dates.get(Stage.HANDOVER, StageDates())
    if handover.actual_finish:
        return handover.actual_finish
    if handover.planned_finish:
        return handover.planned_finish
    planned = [d.planned_finish for d in dates.values() if d.planned_finish]
    return max(planned) if planned else None


def parse_stage(value: int) -> Stage:
    try:
        return Stage(value)
    except ValueError:
        raise InvalidArgument(
            "stage must be one of design, procurement, install, commissioning, handover",
            field="stage",
        ) from None


@dataclass(frozen=True)
class StageChangePlan:
    """What moving a project to another stage writes."""

    move: StageMove
    dates: dict[Stage, StageDates]  # only the stages whose dates change
    # The latest word to the client about the stage the project is now in, if any.
    note: str


def plan_stage_change(
    current: Stage,
    target: Stage,
    *,
    reason: str,
    client_note: str,
    dates: Mapping[Stage, StageDates],
    now: datetime,
    time_zone: str,
) -> StageChangePlan:
    """May the project move from `current` to `target`, and what it does to the
    plan; the days it writes are `now`'s day in the tenant's `time_zone`."""
    move = plan_stage_move(current, target, reason=reason, client_note=client_note)
    today = tenant_today(now, time_zone)
    return StageChangePlan(move, dates_after_move(move, dates, today), move.client_note)
