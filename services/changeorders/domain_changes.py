"""A change order's lines: what each kind of change says, checking them
against the contract (one change per line, every amount in range, a
contract the result still prices) and applying them. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from services.changeorders.domain_contract import Contract, Line, Room
from services.chassis.errors import InvalidArgument
from services.chassis.validation import require_text, single_line

MAX_QUANTITY = 10_000
MAX_UNIT_PRICE_MINOR = 10**10
MAX_AMOUNT_MINOR = 10**13  # labour: far above any real project
MAX_CHANGES = 100
DESCRIPTION_MAX = 300
NOTE_MAX = 500
ROOM_NAME_MAX = 120


class ChangeKind(StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    QUANTITY = "quantity"
    SWAPPED = "swapped"
    REPRICED = "repriced"
    LABOUR = "labour"


# The kinds that name an existing line of the contract.
ON_A_LINE = frozenset(
    {ChangeKind.REMOVED, ChangeKind.QUANTITY, ChangeKind.SWAPPED, ChangeKind.REPRICED}
)


@dataclass(frozen=True)
class LineChange:
    kind: ChangeKind
    line_key: str = ""
    room_key: str = ""
    new_room_name: str = ""
    description: str = ""
    quantity: int | None = None
    unit_price_minor: int | None = None
    client_visible: bool = True
    labour: bool = False
    labour_minor: int | None = None
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "line_key": self.line_key,
            "room_key": self.room_key,
            "new_room_name": self.new_room_name,
            "description": self.description,
            "quantity": self.quantity,
            "unit_price_minor": self.unit_price_minor,
            "client_visible": self.client_visible,
            "labour": self.labour,
            "labour_minor": self.labour_minor,
            "note": self.note,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LineChange:
        return cls(**{**data, "kind": ChangeKind(data["kind"])})


def _quantity(value: int | None, field: str) -> int:
    if value is None or not 1 <= value <= MAX_QUANTITY:
        raise InvalidArgument(
            f"the quantity must be between 1 and {MAX_QUANTITY} (to take a line out, remove it)",
            field=field,
        )
    return value


def _price(value: int | None, field: str) -> int:
    if value is None or not 0 <= value <= MAX_UNIT_PRICE_MINOR:
        raise InvalidArgument(
            f"the unit price must be between 0 and {MAX_UNIT_PRICE_MINOR} minor units", field=field
        )
    return value


def _text(value: str, field: str, max_len: int) -> str:
    return require_text(value, field=field, max_len=max_len)


def _note(value: str, field: str) -> str:
    return single_line(value, field=field, max_len=NOTE_MAX)


def _check_one(contract: Contract, change: LineChange, at: str) -> LineChange:
    """One change, cleaned, or InvalidArgument naming its field."""
    note = _note(change.note, f"{at}.note")
    kind = change.kind
    if kind == ChangeKind.LABOUR:
        labour = change.labour_minor
        if labour is None or not 0 <= labour <= MAX_AMOUNT_MINOR:
            raise InvalidArgument(
                f"labour must be between 0 and {MAX_AMOUNT_MINOR} minor units",
                field=f"{at}.labour_minor",
            )
        if labour == contract.labour_minor:
            raise InvalidArgument("the labour is already that amount", field=f"{at}.labour_minor")
        return LineChange(kind, labour_minor=labour, note=note)
    if kind == ChangeKind.ADDED:
        if bool(change.room_key) == bool(change.new_room_name.strip()):
            raise InvalidArgument(
                "an added line goes into a room of the contract or a new room: name one",
                field=f"{at}.room_key",
            )
        if change.room_key and contract.room(change.room_key) is None:
            raise InvalidArgument(
                f"the contract has no room {change.room_key}", field=f"{at}.room_key"
            )
        return LineChange(
            kind,
            room_key=change.room_key,
            new_room_name=(
                _text(change.new_room_name, f"{at}.new_room_name", ROOM_NAME_MAX)
                if change.new_room_name.strip()
                else ""
            ),
            description=_text(change.description, f"{at}.description", DESCRIPTION_MAX),
            quantity=_quantity(change.quantity, f"{at}.quantity"),
            unit_price_minor=_price(change.unit_price_minor, f"{at}.unit_price_minor"),
            client_visible=change.client_visible,
            labour=change.labour,
            note=note,
        )
    found = contract.find(change.line_key)
    if found is None:
        raise InvalidArgument(f"the contract has no line {change.line_key}", field=f"{at}.line_key")
    _, line = found
    if kind == ChangeKind.REMOVED:
        return LineChange(kind, line_key=line.key, note=note)
    if kind == ChangeKind.QUANTITY:
        quantity = _quantity(change.quantity, f"{at}.quantity")
        if quantity == line.quantity:
            raise InvalidArgument(
                f"line {line.key} already has quantity {quantity}", field=f"{at}.quantity"
            )
        return LineChange(kind, line_key=line.key, quantity=quantity, note=note)
    if kind == ChangeKind.REPRICED:
        price = _price(change.unit_price_minor, f"{at}.unit_price_minor")
        if price == line.unit_price_minor:
            raise InvalidArgument(
                f"line {line.key} already has that price", field=f"{at}.unit_price_minor"
            )
        return LineChange(kind, line_key=line.key, unit_price_minor=price, note=note)
    if kind == ChangeKind.SWAPPED:
        description = _text(change.description, f"{at}.description", DESCRIPTION_MAX)
        if description == line.description:
            raise InvalidArgument(
                f"a swap names the product replacing line {line.key}", field=f"{at}.description"
            )
        return LineChange(
            kind,
            line_key=line.key,
            description=description,
            quantity=(
                None if change.quantity is None else _quantity(change.quantity, f"{at}.quantity")
            ),
            unit_price_minor=(
                None
                if change.unit_price_minor is None
                else _price(change.unit_price_minor, f"{at}.unit_price_minor")
            ),
            note=note,
        )
    raise InvalidArgument("each change needs a kind", field=f"{at}.kind")


def check_changes(contract: Contract, changes: Sequence[LineChange]) -> tuple[LineChange, ...]:
    """The order's lines, cleaned and checked against the contract: one change
    per line, one labour change, and a contract the result still prices."""
    if not changes:
        raise InvalidArgument("a change order changes at least one line", field="changes")
    if len(changes) > MAX_CHANGES:
        raise InvalidArgument(f"at most {MAX_CHANGES} changes per order", field="changes")
    checked: list[LineChange] = []
    touched: set[str] = set()
    for i, change in enumerate(changes):
        clean = _check_one(contract, change, f"changes[{i}]")
        marker = clean.line_key if clean.kind in ON_A_LINE else ""
        if clean.kind == ChangeKind.LABOUR:
            marker = "labour"
        if marker and marker in touched:
            raise InvalidArgument(
                f"{marker} is changed twice; make it one change", field=f"changes[{i}]"
            )
        touched.add(marker)
        checked.append(clean)
    after = apply_changes(contract, checked, key_prefix="check")
    totals = after.totals()
    if totals.subtotal_minor < 0:
        raise InvalidArgument(
            "after these changes the discount would be larger than the contract; "
            "change the discount with a re-priced line or a credit instead",
            field="changes",
        )
    return tuple(checked)


def apply_changes(
    contract: Contract, changes: Sequence[LineChange], *, key_prefix: str
) -> Contract:
    """The contract with the (checked) changes applied. Added lines go at the
    end of their room and get keys `<key_prefix>.<n>`; new rooms go at the end
    of the contract, keyed `<key_prefix>.R<n>`, in the order first named."""
    by_line = {c.line_key: c for c in changes if c.kind in ON_A_LINE}
    labour = next((c.labour_minor for c in changes if c.kind == ChangeKind.LABOUR), None)
    added = [c for c in changes if c.kind == ChangeKind.ADDED]
    new_rooms: dict[str, str] = {}
    for change in added:
        if change.new_room_name and change.new_room_name not in new_rooms:
            new_rooms[change.new_room_name] = f"{key_prefix}.R{len(new_rooms) + 1}"
    additions: dict[str, list[Line]] = {}
    for n, change in enumerate(added, start=1):
        room_key = change.room_key or new_rooms[change.new_room_name]
        additions.setdefault(room_key, []).append(
            Line(
                key=f"{key_prefix}.{n}",
                description=change.description,
                quantity=change.quantity or 0,
                unit_price_minor=change.unit_price_minor or 0,
                client_visible=change.client_visible,
                labour=change.labour,
            )
        )
    rooms = [
        replace(
            room,
            lines=tuple(
                changed
                for line in room.lines
                if (changed := _changed_line(line, by_line.get(line.key))) is not None
            )
            + tuple(additions.get(room.key, ())),
        )
        for room in contract.rooms
    ]
    rooms += [Room(key, name, True, tuple(additions[key])) for name, key in new_rooms.items()]
    return replace(
        contract,
        labour_minor=contract.labour_minor if labour is None else labour,
        rooms=tuple(rooms),
    )


def _changed_line(line: Line, change: LineChange | None) -> Line | None:
    if change is None:
        return line
    if change.kind == ChangeKind.REMOVED:
        return None
    if change.kind == ChangeKind.QUANTITY:
        return replace(line, quantity=change.quantity or line.quantity)
    if change.kind == ChangeKind.REPRICED:
        return replace(line, unit_price_minor=_or(change.unit_price_minor, line.unit_price_minor))
    # SWAPPED: another product in the line's place, visibility kept.
    return replace(
        line,
        description=change.description,
        quantity=_or(change.quantity, line.quantity),
        unit_price_minor=_or(change.unit_price_minor, line.unit_price_minor),
    )


def _or(value: int | None, default: int) -> int:
    return default if value is None else value
