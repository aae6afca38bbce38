"""Rooms and product lines: what a line must say, and where things sit in order."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any, TypeVar

from services.chassis.errors import InvalidArgument
from services.chassis.validation import multiline_text, require_text, single_line
from services.projects import domain_money

ROOM_NAME_MAX = 200
MANUFACTURER_MAX = 200
MODEL_MAX = 200
DESCRIPTION_MAX = 2000

T = TypeVar("T")


def check_room_name(name: str) -> str:
    return require_text(name, field="name", max_len=ROOM_NAME_MAX)


@dataclass(frozen=True)
class LineInput:
    manufacturer: str
    model: str
    description: str
    quantity: int
    unit_price_minor: int
    client_visible: bool


def check_line(
    *,
    manufacturer: str,
    model: str,
    description: str,
    quantity: int,
    unit_price_minor: int,
    client_visible: bool,
) -> LineInput:
    line = LineInput(
        manufacturer=single_line(manufacturer, field="manufacturer", max_len=MANUFACTURER_MAX),
        model=single_line(model, field="model", max_len=MODEL_MAX),
        description=multiline_text(description, field="description", max_len=DESCRIPTION_MAX),
        quantity=domain_money.check_quantity(quantity),
        unit_price_minor=domain_money.check_unit_price(unit_price_minor),
        client_visible=client_visible,
    )
    if not (line.model or line.description):
        raise InvalidArgument("a product line needs a model or a description", field="model")
    return line


# What UpdateProductLine's mask may name; room_id moves the line (the service
# checks the room is the project's), the rest are checked here.
LINE_FIELDS = (*(f.name for f in fields(LineInput)), "room_id")
ROOM_FIELDS = ("name", "client_visible", "position")


def change_line(current: LineInput, changes: Mapping[str, Any]) -> LineInput:
    """The line with `changes` applied, checked whole as a new line would be."""
    merged = asdict(current) | {k: v for k, v in changes.items() if k != "room_id"}
    return check_line(**merged)


def move_to(items: Sequence[T], item: T, position: int) -> list[T]:
    """`items` in order with `item` moved to the 1-based `position` (clamped to
    the ends); 0 leaves the order as it is."""
    if position < 0:
        raise InvalidArgument("position must be 0 (keep) or 1 and up", field="position")
    ordered = list(items)
    if position == 0 or item not in ordered:
        return ordered
    ordered.remove(item)
    ordered.insert(min(position, len(ordered) + 1) - 1, item)
    return ordered
