"""The contract a change order changes: rooms and lines with stable keys,
labour, discount and tax, priced by the suite's money rules. Pure: no I/O.

The contract is the accepted proposal (every room and line, hidden ones too)
plus the change orders approved since, in order. Keys never change: "R2.3" is
the third line of the proposal's second room, "CO-004.1" the first line
CO-004 added, "CO-004.R1" the first room it added.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from services.chassis.money import tax_on


@dataclass(frozen=True)
class Line:
    key: str
    description: str
    quantity: int
    unit_price_minor: int
    client_visible: bool = True
    labour: bool = False

    @property
    def total_minor(self) -> int:
        return self.quantity * self.unit_price_minor


@dataclass(frozen=True)
class Room:
    key: str
    name: str
    client_visible: bool
    lines: tuple[Line, ...]

    @property
    def total_minor(self) -> int:
        return sum(line.total_minor for line in self.lines)


@dataclass(frozen=True)
class Totals:
    items_minor: int
    labour_minor: int
    discount_minor: int
    subtotal_minor: int
    tax_minor: int
    total_minor: int


@dataclass(frozen=True)
class Contract:
    currency: str
    tax_rate_bps: int
    labour_minor: int
    discount_minor: int
    rooms: tuple[Room, ...]

    def totals(self) -> Totals:
        """The proposal's arithmetic: tax once on the subtotal, half-up."""
        items = sum(room.total_minor for room in self.rooms)
        subtotal = items + self.labour_minor - self.discount_minor
        tax = tax_on(subtotal, self.tax_rate_bps)
        return Totals(items, self.labour_minor, self.discount_minor, subtotal, tax, subtotal + tax)

    def find(self, line_key: str) -> tuple[Room, Line] | None:
        for room in self.rooms:
            for line in room.lines:
                if line.key == line_key:
                    return room, line
        return None

    def room(self, room_key: str) -> Room | None:
        return next((room for room in self.rooms if room.key == room_key), None)

    def as_dict(self) -> dict[str, Any]:
        return {
            "currency": self.currency,
            "tax_rate_bps": self.tax_rate_bps,
            "labour_minor": self.labour_minor,
            "discount_minor": self.discount_minor,
            "rooms": [
                {
                    "key": r.key,
                    "name": r.name,
                    "client_visible": r.client_visible,
                    "lines": [
                        {
                            "key": x.key,
                            "description": x.description,
                            "quantity": x.quantity,
                            "unit_price_minor": x.unit_price_minor,
                            "client_visible": x.client_visible,
                            "labour": x.labour,
                        }
                        for x in r.lines
                    ],
                }
                for r in self.rooms
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Contract:
        return cls(
            currency=data["currency"],
            tax_rate_bps=data["tax_rate_bps"],
            labour_minor=data["labour_minor"],
            discount_minor=data["discount_minor"],
            rooms=tuple(
                Room(
                    key=r["key"],
                    name=r["name"],
                    client_visible=r["client_visible"],
                    lines=tuple(Line(**x) for x in r["lines"]),
                )
                for r in data["rooms"]
            ),
        )


def proposal_room_key(room_index: int) -> str:
    return f"R{room_index + 1}"


def proposal_line_key(room_index: int, line_index: int) -> str:
    return f"R{room_index + 1}.{line_index + 1}"
