"""The diff and price arithmetic over generated contracts and change orders:
applying an order's lines to its baseline gives the new contract (checked
against a model written independently here), the impact is the new total
minus the old to the minor unit, and what the client sees adds up."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from services.changeorders.domain_changes import ChangeKind, LineChange, check_changes
from services.changeorders.domain_contract import Contract, Line, Room
from services.changeorders.domain_diff import (
    LineDiffKind,
    build_diff,
    client_diff,
    diff_as_dict,
    diff_from_dict,
)
from services.chassis.errors import InvalidArgument
from services.chassis.money import round_half_up

quantities = st.integers(min_value=1, max_value=500)
ON_A_LINE_KINDS = [ChangeKind.REMOVED, ChangeKind.QUANTITY, ChangeKind.SWAPPED, ChangeKind.REPRICED]
prices = st.integers(min_value=0, max_value=5_000_000)


@st.composite
def contracts(draw) -> Contract:
    rooms = []
    for r in range(draw(st.integers(min_value=1, max_value=5))):
        lines = tuple(
            Line(
                key=f"R{r + 1}.{i + 1}",
                description=f"Product {r}-{i}",
                quantity=draw(quantities),
                unit_price_minor=draw(prices),
                client_visible=draw(st.booleans()),
                labour=draw(st.booleans()),
            )
            for i in range(draw(st.integers(min_value=0, max_value=6)))
        )
        rooms.append(Room(f"R{r + 1}", f"Room {r + 1}", draw(st.booleans()), lines))
    items = sum(room.total_minor for room in rooms)
    labour = draw(st.integers(min_value=0, max_value=2_000_000))
    return Contract(
        currency="GBP",
        tax_rate_bps=draw(st.sampled_from([0, 500, 825, 1_000, 2_000, 2_500, 1_333])),
        labour_minor=labour,
        discount_minor=draw(st.integers(min_value=0, max_value=(items + labour) // 10)),
        rooms=tuple(rooms),
    )


@st.composite
def orders(draw) -> tuple[Contract, list[LineChange]]:
    contract = draw(contracts())
    keys = [line.key for room in contract.rooms for line in room.lines]
    touched = draw(st.lists(st.sampled_from(keys), unique=True, max_size=len(keys))) if keys else []
    changes: list[LineChange] = []
    for key in touched:
        line = contract.find(key)[1]  # type: ignore[index]
        kind = draw(st.sampled_from(ON_A_LINE_KINDS))
        if kind == ChangeKind.REMOVED:
            changes.append(LineChange(kind, line_key=key))
        elif kind == ChangeKind.QUANTITY:
            q = draw(quantities.filter(lambda q, line=line: q != line.quantity))
            changes.append(LineChange(kind, line_key=key, quantity=q))
        elif kind == ChangeKind.REPRICED:
            p = draw(prices.filter(lambda p, line=line: p != line.unit_price_minor))
            changes.append(LineChange(kind, line_key=key, unit_price_minor=p))
        else:
            changes.append(
                LineChange(
                    kind,
                    line_key=key,
                    description=f"{line.description} (swapped)",
                    quantity=draw(st.none() | quantities),
                    unit_price_minor=draw(st.none() | prices),
                )
            )
    for _ in range(draw(st.integers(min_value=0, max_value=4))):
        into_new = draw(st.booleans())
        changes.append(
            LineChange(
                ChangeKind.ADDED,
                room_key="" if into_new else draw(st.sampled_from([r.key for r in contract.rooms])),
                new_room_name=draw(st.sampled_from(["Garden", "Gym"])) if into_new else "",
                description="Subwoofer",
                quantity=draw(quantities),
                unit_price_minor=draw(prices),
                client_visible=draw(st.booleans()),
                labour=draw(st.booleans()),
            )
        )
    if draw(st.booleans()):
        labour = draw(st.integers(min_value=0, max_value=3_000_000))
        if labour != contract.labour_minor:
            changes.append(LineChange(ChangeKind.LABOUR, labour_minor=labour))
    if not changes:
        changes.append(
            LineChange(
                ChangeKind.ADDED,
                room_key=contract.rooms[0].key,
                description="Extra cable",
                quantity=1,
                unit_price_minor=1_999,
            )
        )
    return contract, changes


@dataclass
class Model:
    """The new contract worked out the plain way: every line's quantity and
    price after the order, by key; labour; then the totals by the rules."""

    lines: dict[str, tuple[int, int]]
    labour: int


def model_after(contract: Contract, changes: list[LineChange]) -> Model:
    lines = {x.key: (x.quantity, x.unit_price_minor) for r in contract.rooms for x in r.lines}
    labour = contract.labour_minor
    n = 0
    for c in changes:
        if c.kind == ChangeKind.REMOVED:
            del lines[c.line_key]
        elif c.kind == ChangeKind.QUANTITY:
            lines[c.line_key] = (c.quantity, lines[c.line_key][1])  # type: ignore[assignment]
        elif c.kind == ChangeKind.REPRICED:
            lines[c.line_key] = (lines[c.line_key][0], c.unit_price_minor)  # type: ignore[assignment]
        elif c.kind == ChangeKind.SWAPPED:
            q, p = lines[c.line_key]
            lines[c.line_key] = (
                q if c.quantity is None else c.quantity,
                p if c.unit_price_minor is None else c.unit_price_minor,
            )
        elif c.kind == ChangeKind.ADDED:
            n += 1
            lines[f"CO-009.{n}"] = (c.quantity, c.unit_price_minor)  # type: ignore[assignment]
        else:
            labour = c.labour_minor  # type: ignore[assignment]
    return Model(lines, labour)


def checked(before: Contract, raw: list[LineChange]) -> tuple[LineChange, ...]:
    """The order's lines checked; an order whose discount would outgrow the
    contract must be refused, and is left out of the property."""
    model = model_after(before, raw)
    if sum(q * p for q, p in model.lines.values()) + model.labour < before.discount_minor:
        with pytest.raises(InvalidArgument, match="discount"):
            check_changes(before, raw)
        assume(False)
    return check_changes(before, raw)


def total_of(items: int, labour: int, discount: int, rate_bps: int) -> int:
    subtotal = items + labour - discount
    return subtotal + round_half_up(subtotal * rate_bps, 10_000)


@settings(max_examples=300, deadline=None)
@given(orders())
def test_applying_the_lines_gives_the_new_contract_and_the_impact_to_the_minor_unit(order):
    before, raw = order
    changes = checked(before, raw)
    after, diff = build_diff(before, changes, key_prefix="CO-009", signed_total_minor=123)

    model = model_after(before, list(changes))
    got = {x.key: (x.quantity, x.unit_price_minor) for r in after.rooms for x in r.lines}
    assert got == model.lines
    assert after.labour_minor == model.labour

    items_after = sum(q * p for q, p in model.lines.values())
    old_total = total_of(
        before.totals().items_minor, before.labour_minor, before.discount_minor, before.tax_rate_bps
    )
    new_total = total_of(items_after, model.labour, before.discount_minor, before.tax_rate_bps)
    assert diff.before.total_minor == old_total
    assert diff.after.total_minor == new_total
    assert diff.impact_minor == new_total - old_total
    assert diff.tax_impact_minor == diff.after.tax_minor - diff.before.tax_minor
    assert diff.signed_total_minor == 123


@settings(max_examples=300, deadline=None)
@given(orders())
def test_every_line_appears_once_with_its_before_and_after(order):
    before, raw = order
    changes = checked(before, raw)
    after, diff = build_diff(before, changes, key_prefix="CO-009", signed_total_minor=0)
    keys = [x.key for r in diff.rooms for x in r.lines]
    assert len(keys) == len(set(keys))
    old = {x.key for r in before.rooms for x in r.lines}
    new = {x.key for r in after.rooms for x in r.lines}
    assert set(keys) == old | new
    for room in diff.rooms:
        for line in room.lines:
            assert (line.before is None) == (line.kind == LineDiffKind.ADDED)
            assert (line.after is None) == (line.kind == LineDiffKind.REMOVED)
    assert sum(r.total_after_minor for r in diff.rooms) == diff.after.items_minor
    assert sum(r.total_before_minor for r in diff.rooms) == diff.before.items_minor


@settings(max_examples=300, deadline=None)
@given(orders())
def test_what_the_client_sees_adds_up_and_itemises_no_hidden_line(order):
    before, raw = order
    changes = checked(before, raw)
    _, staff = build_diff(before, changes, key_prefix="CO-009", signed_total_minor=0)
    client = client_diff(staff)
    hidden_rooms = {r.key for r in before.rooms if not r.client_visible}
    for room in client.rooms:
        assert room.key not in hidden_rooms
        assert all(line.shown.client_visible for line in room.lines)
    assert sum(r.total_before_minor for r in client.rooms) == staff.before.items_minor
    assert sum(r.total_after_minor for r in client.rooms) == staff.after.items_minor
    assert (client.before, client.after, client.impact_minor) == (
        staff.before,
        staff.after,
        staff.impact_minor,
    )
    assert diff_from_dict(diff_as_dict(client)) == client
