"""A change order's schedule impact: how many days, from which stage on, and
the planned stage dates before and after. Pure: no I/O.

Stages are named as projects names them (its `Stage` enum, lower case):
a stage and every later one move by the same number of days; earlier stages
keep their dates; a date not planned yet stays unplanned.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from services.chassis.errors import InvalidArgument

STAGES = ("design", "procurement", "install", "commissioning", "handover")
MAX_DAYS = 365


@dataclass(frozen=True)
class StageDates:
    stage: str
    planned_start: date | None = None
    planned_finish: date | None = None

    def shifted(self, days: int) -> StageDates:
        delta = timedelta(days=days)
        return StageDates(
            self.stage,
            self.planned_start + delta if self.planned_start else None,
            self.planned_finish + delta if self.planned_finish else None,
        )


@dataclass(frozen=True)
class Schedule:
    days: int = 0
    shift_from: str = ""  # empty when the order moves no date


def check_schedule(days: int, shift_from: str) -> Schedule:
    """Days within a year either way; a stage to move from when days are not 0."""
    if not -MAX_DAYS <= days <= MAX_DAYS:
        raise InvalidArgument(
            f"the schedule impact is between -{MAX_DAYS} and {MAX_DAYS} days",
            field="schedule_impact_days",
        )
    stage = shift_from.strip().lower()
    if days == 0:
        return Schedule()
    if stage not in STAGES:
        raise InvalidArgument(
            f"name the first stage whose dates move: one of {', '.join(STAGES)}",
            field="shift_from_stage",
        )
    return Schedule(days, stage)


@dataclass(frozen=True)
class StageMove:
    before: StageDates
    after: StageDates

    @property
    def moved(self) -> bool:
        return self.before != self.after


def stage_moves(stages: Sequence[StageDates], schedule: Schedule) -> tuple[StageMove, ...]:
    """All five stages, in order, before and after (unknown ones unplanned)."""
    known = {s.stage: s for s in stages}
    first = STAGES.index(schedule.shift_from) if schedule.shift_from else len(STAGES)
    moves = []
    for i, name in enumerate(STAGES):
        before = known.get(name, StageDates(name))
        after = before.shifted(schedule.days) if i >= first else before
        moves.append(StageMove(before, after))
    return tuple(moves)


def _day(value: date | None) -> str:
    return value.isoformat() if value else ""


def _parse(value: str) -> date | None:
    return date.fromisoformat(value) if value else None


def stages_as_dicts(stages: Sequence[StageDates]) -> list[dict[str, str]]:
    return [
        {"stage": s.stage, "start": _day(s.planned_start), "finish": _day(s.planned_finish)}
        for s in stages
    ]


def stages_from_dicts(rows: Sequence[Mapping[str, Any]]) -> tuple[StageDates, ...]:
    return tuple(StageDates(r["stage"], _parse(r["start"]), _parse(r["finish"])) for r in rows)


def moves_as_dicts(moves: Sequence[StageMove]) -> list[dict[str, str]]:
    return [
        {
            "stage": m.before.stage,
            "start_before": _day(m.before.planned_start),
            "finish_before": _day(m.before.planned_finish),
            "start_after": _day(m.after.planned_start),
            "finish_after": _day(m.after.planned_finish),
        }
        for m in moves
    ]


def moves_from_dicts(rows: Sequence[Mapping[str, Any]]) -> tuple[StageMove, ...]:
    return tuple(
        StageMove(
            StageDates(r["stage"], _parse(r["start_before"]), _parse(r["finish_before"])),
            StageDates(r["stage"], _parse(r["start_after"]), _parse(r["finish_after"])),
        )
        for r in rows
    )
