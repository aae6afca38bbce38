"""What changed between two revisions of one change order: the lines whose
change is not the same in both, and the price and schedule either way.
Pure: no I/O.

Lines of the contract are matched by key. Lines a revision adds are keyed by
their place in that revision's list, so they are matched by room and
description instead: dropping the first of two added lines is one line gone,
not two lines changed.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.changeorders.domain_diff import Diff, LineDiff, LineDiffKind


@dataclass(frozen=True)
class LineState:
    room_name: str
    key: str
    description: str
    kind: LineDiffKind
    quantity: int  # after the revision
    total_minor: int


@dataclass(frozen=True)
class RevisionChange:
    room_name: str
    key: str
    description: str
    before: LineState | None  # in the earlier revision (None: not there)
    after: LineState | None


def _identity(room_name: str, line: LineDiff) -> tuple[str, ...]:
    if line.kind == LineDiffKind.ADDED:
        return ("added", room_name, line.shown.description)
    return ("line", line.key)


def _states(diff: Diff) -> dict[tuple[str, ...], LineState]:
    states: dict[tuple[str, ...], LineState] = {}
    for room in diff.rooms:
        for line in room.lines:
            states[_identity(room.name, line)] = LineState(
                room.name,
                line.key,
                line.shown.description,
                line.kind,
                line.after.quantity if line.after else 0,
                line.total_after_minor,
            )
    return states


def _unchanged(state: LineState | None) -> bool:
    return state is None or state.kind == LineDiffKind.UNCHANGED


def compare(earlier: Diff, later: Diff) -> tuple[RevisionChange, ...]:
    """The lines a revision treats differently from the earlier one, in the
    later revision's order, then what only the earlier one had."""
    old, new = _states(earlier), _states(later)
    out: list[RevisionChange] = []
    for identity in [*new, *(i for i in old if i not in new)]:
        before, after = old.get(identity), new.get(identity)
        if _unchanged(before) and _unchanged(after):
            continue
        if (
            before is not None
            and after is not None
            and (
                (before.kind, before.quantity, before.total_minor)
                == (after.kind, after.quantity, after.total_minor)
            )
        ):
            continue
        shown = after or before
        assert shown is not None
        out.append(RevisionChange(shown.room_name, shown.key, shown.description, before, after))
    return tuple(out)
