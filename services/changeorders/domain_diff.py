"""The diff: a change order compared with the contract it changes, grouped by
room, each line before and after, the totals before and after, and what the
client sees of it. Pure: no I/O.

The price impact is the new contract's total minus the old one's, both priced
by `Contract.totals` (tax once on each subtotal, half-up): never typed, and
never the sum of per-line taxes, so the client's "contract now" is exactly
the old total plus the impact.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from services.changeorders.domain_changes import ChangeKind, LineChange, apply_changes
from services.changeorders.domain_contract import Contract, Line, Totals

# The client sees hidden rooms' amounts together under this name.
OTHER_ROOMS_NAME = "Other items"
OTHER_ROOMS_KEY = "other"


class LineDiffKind(StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    QUANTITY = "quantity"
    SWAPPED = "swapped"
    REPRICED = "repriced"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class LineDiff:
    key: str
    kind: LineDiffKind
    before: Line | None
    after: Line | None
    note: str = ""

    @property
    def total_before_minor(self) -> int:
        return self.before.total_minor if self.before else 0

    @property
    def total_after_minor(self) -> int:
        return self.after.total_minor if self.after else 0

    @property
    def shown(self) -> Line:
        line = self.after or self.before
        assert line is not None  # a diff line has one side at least
        return line


@dataclass(frozen=True)
class RoomDiff:
    key: str
    name: str
    added: bool
    lines: tuple[LineDiff, ...]
    other_before_minor: int = 0  # hidden lines, summed (the client's view)
    other_after_minor: int = 0
    client_visible: bool = True

    @property
    def total_before_minor(self) -> int:
        return sum(x.total_before_minor for x in self.lines) + self.other_before_minor

    @property
    def total_after_minor(self) -> int:
        return sum(x.total_after_minor for x in self.lines) + self.other_after_minor

    @property
    def changed(self) -> bool:
        return (
            self.added
            or self.total_before_minor != self.total_after_minor
            or any(x.kind != LineDiffKind.UNCHANGED for x in self.lines)
        )


@dataclass(frozen=True)
class Diff:
    currency: str
    tax_rate_bps: int
    rooms: tuple[RoomDiff, ...]
    before: Totals
    after: Totals
    signed_total_minor: int

    @property
    def impact_minor(self) -> int:
        return self.after.total_minor - self.before.total_minor

    @property
    def tax_impact_minor(self) -> int:
        return self.after.tax_minor - self.before.tax_minor

    def line_keys(self) -> frozenset[str]:
        return frozenset(x.key for room in self.rooms for x in room.lines)


_KIND_OF = {
    ChangeKind.REMOVED: LineDiffKind.REMOVED,
    ChangeKind.QUANTITY: LineDiffKind.QUANTITY,
    ChangeKind.SWAPPED: LineDiffKind.SWAPPED,
    ChangeKind.REPRICED: LineDiffKind.REPRICED,
}


def build_diff(
    before: Contract, changes: Sequence[LineChange], *, key_prefix: str, signed_total_minor: int
) -> tuple[Contract, Diff]:
    """The contract after the (checked) changes, and the staff's diff: every
    room and line itemised, hidden ones included."""
    after = apply_changes(before, changes, key_prefix=key_prefix)
    notes = {c.line_key: c.note for c in changes if c.line_key}
    kinds = {c.line_key: _KIND_OF[c.kind] for c in changes if c.kind in _KIND_OF}
    # Added lines are keyed in the order they are listed (apply_changes).
    added = [c for c in changes if c.kind == ChangeKind.ADDED]
    notes |= {f"{key_prefix}.{n}": c.note for n, c in enumerate(added, start=1)}
    rooms = []
    old_keys = {room.key for room in before.rooms}
    for room in after.rooms:
        old = before.room(room.key)
        old_lines = {x.key: x for x in old.lines} if old else {}
        lines: list[LineDiff] = []
        for line in old.lines if old else ():
            kept = next((x for x in room.lines if x.key == line.key), None)
            kind = kinds.get(line.key, LineDiffKind.UNCHANGED)
            lines.append(LineDiff(line.key, kind, line, kept, notes.get(line.key, "")))
        for line in room.lines:
            if line.key not in old_lines:
                lines.append(LineDiff(line.key, LineDiffKind.ADDED, None, line, notes[line.key]))
        rooms.append(
            RoomDiff(
                room.key,
                room.name,
                room.key not in old_keys,
                tuple(lines),
                client_visible=room.client_visible,
            )
        )
    diff = Diff(
        before.currency,
        before.tax_rate_bps,
        tuple(rooms),
        before.totals(),
        after.totals(),
        signed_total_minor,
    )
    return after, diff


def client_diff(staff: Diff) -> Diff:
    """What the client sees: a visible room's hidden lines summed into its
    other items, before and after; hidden rooms summed into one "Other items"
    room at the end. Every room still adds up, and the rooms add up to the
    items the totals are priced on."""
    shown: list[RoomDiff] = []
    hidden_before = hidden_after = 0
    for room in staff.rooms:
        if not room.client_visible:
            hidden_before += room.total_before_minor
            hidden_after += room.total_after_minor
            continue
        visible = tuple(x for x in room.lines if x.shown.client_visible)
        hidden = [x for x in room.lines if not x.shown.client_visible]
        shown.append(
            replace(
                room,
                lines=visible,
                other_before_minor=room.other_before_minor
                + sum(x.total_before_minor for x in hidden),
                other_after_minor=room.other_after_minor + sum(x.total_after_minor for x in hidden),
            )
        )
    if hidden_before or hidden_after:
        shown.append(
            RoomDiff(OTHER_ROOMS_KEY, OTHER_ROOMS_NAME, False, (), hidden_before, hidden_after)
        )
    return replace(staff, rooms=tuple(shown))


def changed_rooms(diff: Diff) -> tuple[RoomDiff, ...]:
    return tuple(room for room in diff.rooms if room.changed)


def changed_lines(diff: Diff) -> tuple[tuple[RoomDiff, LineDiff], ...]:
    return tuple(
        (room, line)
        for room in diff.rooms
        for line in room.lines
        if line.kind != LineDiffKind.UNCHANGED
    )


# -- stored as JSON (the frozen content a client signs) --------------------------------


def _line_dict(line: Line | None) -> dict[str, Any] | None:
    if line is None:
        return None
    return {
        "key": line.key,
        "description": line.description,
        "quantity": line.quantity,
        "unit_price_minor": line.unit_price_minor,
        "total_minor": line.total_minor,
        "client_visible": line.client_visible,
        "labour": line.labour,
    }


def _line_of(data: Mapping[str, Any] | None) -> Line | None:
    if data is None:
        return None
    return Line(
        data["key"],
        data["description"],
        data["quantity"],
        data["unit_price_minor"],
        data["client_visible"],
        data["labour"],
    )


def _totals_dict(t: Totals) -> dict[str, int]:
    return {
        "items_minor": t.items_minor,
        "labour_minor": t.labour_minor,
        "discount_minor": t.discount_minor,
        "subtotal_minor": t.subtotal_minor,
        "tax_minor": t.tax_minor,
        "total_minor": t.total_minor,
    }


def diff_as_dict(diff: Diff) -> dict[str, Any]:
    return {
        "currency": diff.currency,
        "tax_rate_bps": diff.tax_rate_bps,
        "rooms": [
            {
                "key": r.key,
                "name": r.name,
                "added": r.added,
                "client_visible": r.client_visible,
                "other_before_minor": r.other_before_minor,
                "other_after_minor": r.other_after_minor,
                "total_before_minor": r.total_before_minor,
                "total_after_minor": r.total_after_minor,
                "lines": [
                    {
                        "key": x.key,
                        "kind": x.kind.value,
                        "before": _line_dict(x.before),
                        "after": _line_dict(x.after),
                        "note": x.note,
                    }
                    for x in r.lines
                ],
            }
            for r in diff.rooms
        ],
        "before": _totals_dict(diff.before),
        "after": _totals_dict(diff.after),
        "signed_total_minor": diff.signed_total_minor,
        "price_impact_minor": diff.impact_minor,
        "tax_impact_minor": diff.tax_impact_minor,
    }


def diff_from_dict(data: Mapping[str, Any]) -> Diff:
    return Diff(
        currency=data["currency"],
        tax_rate_bps=data["tax_rate_bps"],
        rooms=tuple(
            RoomDiff(
                key=r["key"],
                name=r["name"],
                added=r["added"],
                lines=tuple(
                    LineDiff(
                        x["key"],
                        LineDiffKind(x["kind"]),
                        _line_of(x["before"]),
                        _line_of(x["after"]),
                        x["note"],
                    )
                    for x in r["lines"]
                ),
                other_before_minor=r["other_before_minor"],
                other_after_minor=r["other_after_minor"],
                client_visible=r["client_visible"],
            )
            for r in data["rooms"]
        ),
        before=Totals(**data["before"]),
        after=Totals(**data["after"]),
        signed_total_minor=data["signed_total_minor"],
    )
