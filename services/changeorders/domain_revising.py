"""Revising a change order: revision n+1, a draft, carrying over whatever the
request leaves out from the revision it supersedes. Pure: no I/O, the clock
passed in. (What differs between two revisions is `domain_revisions.py`.)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.changeorders import domain_orders
from services.changeorders.domain_changes import LineChange
from services.changeorders.domain_schedule import Schedule, check_schedule
from services.chassis.validation import multiline_text

COMMENT_MAX = 2_000


@dataclass(frozen=True)
class Current:
    """The revision being superseded, as it is stored."""

    number: str
    revision: int
    status: int
    title: str
    reason: str
    changes: Sequence[Mapping[str, Any]]  # LineChange.as_dict each
    schedule_days: int
    shift_from: str
    deadline: datetime | None


@dataclass(frozen=True)
class Asked:
    """What the request gives; empty (or None) is "as the current revision"."""

    title: str = ""
    reason: str = ""
    changes: Sequence[LineChange] = ()
    schedule_days: int | None = None
    shift_from: str = ""
    deadline: datetime | None = None


@dataclass(frozen=True)
class RevisionPlan:
    """Revision `revision` (a draft, priced by the caller on the contract as it
    stands), `superseded` no longer decidable, staff's answer for the thread."""

    revision: int
    superseded: int
    title: str
    reason: str
    changes: tuple[LineChange, ...]
    schedule: Schedule
    deadline: datetime | None
    answer: str
    at: datetime

    def facts(self, content: Mapping[str, Any]) -> dict[str, Any]:
        """The `revised` audit entry: the new draft's content (as priced) and
        what it replaced."""
        return {**content, "superseded_revision": self.superseded, "comment": self.answer}


def check_answer(comment: str) -> str:
    """Staff's answer to the client, optional; checked before anything is read."""
    return multiline_text(comment, field="comment", max_len=COMMENT_MAX)


def plan_revision(current: Current, asked: Asked, *, answer: str, now: datetime) -> RevisionPlan:
    domain_orders.check_revise(status=current.status, number=current.number)
    schedule = check_schedule(
        current.schedule_days if asked.schedule_days is None else asked.schedule_days,
        asked.shift_from or current.shift_from,
    )
    title = domain_orders.check_title(asked.title) if asked.title else current.title
    reason = domain_orders.check_reason(asked.reason) if asked.reason else current.reason
    changes = tuple(asked.changes) or tuple(LineChange.from_dict(c) for c in current.changes)
    deadline = asked.deadline or current.deadline
    # A passed deadline is not carried over (nor kept): staff set a new one to send.
    kept = deadline if deadline and deadline > now else None
    if kept is not None:
        domain_orders.check_deadline(kept, now, required=False)  # at most a year away
    return RevisionPlan(
        revision=current.revision + 1,
        superseded=current.revision,
        title=title,
        reason=reason,
        changes=changes,
        schedule=schedule,
        deadline=kept,
        answer=answer,
        at=now,
    )
