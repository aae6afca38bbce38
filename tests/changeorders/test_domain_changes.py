"""A change order's lines checked against the contract and applied; the
diff a client reads; schedule moves; the revision comparison. Pure."""

from __future__ import annotations

from datetime import date

import pytest

from services.changeorders.domain_changes import ChangeKind, LineChange, check_changes
from services.changeorders.domain_contract import Contract, Line, Room
from services.changeorders.domain_diff import LineDiffKind, build_diff, client_diff
from services.changeorders.domain_revisions import compare
from services.changeorders.domain_schedule import StageDates, check_schedule, stage_moves
from services.chassis.errors import InvalidArgument

CONTRACT = Contract(
    currency="GBP",
    tax_rate_bps=2_000,
    labour_minor=60_000,
    discount_minor=10_000,
    rooms=(
        Room(
            "R1",
            "Living room",
            True,
            (
                Line("R1.1", "Sonos Arc - Soundbar", 2, 89_900),
                Line("R1.2", "HDMI cables", 4, 2_499, client_visible=False),
            ),
        ),
        Room("R2", "Equipment rack", False, (Line("R2.1", "Managed switch", 1, 45_000),)),
    ),
)


def add(**kw) -> LineChange:
    values = {"description": "Subwoofer", "quantity": 1, "unit_price_minor": 129_900} | kw
    return LineChange(ChangeKind.ADDED, **values)


def test_the_contract_is_priced_like_the_proposal_tax_once_half_up():
    t = CONTRACT.totals()
    assert (t.items_minor, t.subtotal_minor) == (234_796, 284_796)
    assert t.tax_minor == 56_959  # 56,959.2 rounds down
    assert t.total_minor == 341_755


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (LineChange(ChangeKind.REMOVED, line_key="R9.1"), "changes[0].line_key", "no line R9.1"),
        (
            LineChange(ChangeKind.QUANTITY, line_key="R1.1", quantity=2),
            "changes[0].quantity",
            "already",
        ),
        (
            LineChange(ChangeKind.QUANTITY, line_key="R1.1", quantity=0),
            "changes[0].quantity",
            "remove it",
        ),
        (
            LineChange(ChangeKind.REPRICED, line_key="R1.1", unit_price_minor=-1),
            "changes[0].unit_price_minor",
            "between",
        ),
        (
            LineChange(ChangeKind.SWAPPED, line_key="R1.1", description="Sonos Arc - Soundbar"),
            "changes[0].description",
            "product",
        ),
        (add(), "changes[0].room_key", "name one"),
        (add(room_key="R1", new_room_name="Gym"), "changes[0].room_key", "name one"),
        (add(room_key="R7"), "changes[0].room_key", "no room R7"),
        (add(room_key="R1", description=" "), "changes[0].description", "required"),
        (LineChange(ChangeKind.LABOUR, labour_minor=60_000), "changes[0].labour_minor", "already"),
        (add(room_key="R1", note="line\nbreak"), "changes[0].note", "line break"),
    ],
)
def test_a_change_that_does_not_fit_the_contract_names_its_field(change, field, words):
    with pytest.raises(InvalidArgument, match=words) as err:
        check_changes(CONTRACT, [change])
    assert err.value.field == field


def test_one_change_per_line_and_at_least_one():
    twice = [
        LineChange(ChangeKind.REMOVED, line_key="R1.1"),
        LineChange(ChangeKind.REPRICED, line_key="R1.1", unit_price_minor=1),
    ]
    with pytest.raises(InvalidArgument, match="changed twice") as err:
        check_changes(CONTRACT, twice)
    assert err.value.field == "changes[1]"
    with pytest.raises(InvalidArgument, match="at least one"):
        check_changes(CONTRACT, [])


def test_a_contract_left_smaller_than_its_discount_is_refused():
    everything = [
        LineChange(ChangeKind.REMOVED, line_key=key) for key in ("R1.1", "R1.2", "R2.1")
    ] + [LineChange(ChangeKind.LABOUR, labour_minor=0)]
    with pytest.raises(InvalidArgument, match="discount"):
        check_changes(CONTRACT, everything)


def test_lines_added_to_a_new_room_share_it_and_are_keyed_by_the_order():
    changes = check_changes(
        CONTRACT,
        [add(new_room_name="Gym"), add(new_room_name="Gym", description="Amp"), add(room_key="R1")],
    )
    after, diff = build_diff(CONTRACT, changes, key_prefix="CO-004", signed_total_minor=1)
    gym = after.rooms[-1]
    assert (gym.key, gym.name, [x.key for x in gym.lines]) == (
        "CO-004.R1",
        "Gym",
        ["CO-004.1", "CO-004.2"],
    )
    assert [x.key for x in after.rooms[0].lines] == ["R1.1", "R1.2", "CO-004.3"]
    assert diff.rooms[-1].added and not diff.rooms[0].added


def test_a_swap_keeps_quantity_and_visibility_unless_told():
    (swap,) = check_changes(
        CONTRACT, [LineChange(ChangeKind.SWAPPED, line_key="R1.2", description="Fibre HDMI")]
    )
    after, diff = build_diff(CONTRACT, [swap], key_prefix="CO-001", signed_total_minor=0)
    line = after.find("R1.2")[1]  # type: ignore[index]
    assert (line.description, line.quantity, line.unit_price_minor, line.client_visible) == (
        "Fibre HDMI",
        4,
        2_499,
        False,
    )
    assert diff.impact_minor == 0 and diff.rooms[0].lines[1].kind == LineDiffKind.SWAPPED


def test_the_client_sees_hidden_lines_as_other_items_and_hidden_rooms_as_one():
    changes = check_changes(
        CONTRACT,
        [
            LineChange(ChangeKind.QUANTITY, line_key="R1.2", quantity=6),
            add(room_key="R2", description="Patch panel", unit_price_minor=8_000),
        ],
    )
    _, staff = build_diff(CONTRACT, changes, key_prefix="CO-001", signed_total_minor=0)
    client = client_diff(staff)
    living, other = client.rooms
    assert [x.key for x in living.lines] == ["R1.1"]
    assert (living.other_before_minor, living.other_after_minor) == (9_996, 14_994)
    assert (other.name, other.total_before_minor, other.total_after_minor) == (
        "Other items",
        45_000,
        53_000,
    )
    # Tax on each total, half-up: 12,998 of lines bring 2,600 of tax, not 2,599.60.
    assert client.impact_minor == staff.impact_minor == 15_598


def test_a_schedule_moves_its_stage_and_every_later_one():
    with pytest.raises(InvalidArgument, match="first stage") as err:
        check_schedule(3, "")
    assert err.value.field == "shift_from_stage"
    with pytest.raises(InvalidArgument):
        check_schedule(400, "install")
    assert check_schedule(0, "install").shift_from == ""
    stages = [
        StageDates("procurement", date(2031, 2, 1), date(2031, 2, 20)),
        StageDates("install", date(2031, 3, 2), date(2031, 3, 6)),
        StageDates("handover", None, date(2031, 4, 1)),
    ]
    moves = {m.before.stage: m for m in stage_moves(stages, check_schedule(-2, "Install"))}
    assert list(moves) == ["design", "procurement", "install", "commissioning", "handover"]
    assert not moves["procurement"].moved and not moves["commissioning"].moved
    assert moves["install"].after.planned_start == date(2031, 2, 28)
    assert moves["handover"].after == StageDates("handover", None, date(2031, 3, 30))


def test_revisions_compare_by_key_and_added_lines_by_their_words():
    first = check_changes(
        CONTRACT,
        [
            add(room_key="R1", description="Cables"),
            add(room_key="R1"),
            LineChange(ChangeKind.QUANTITY, line_key="R1.1", quantity=3),
        ],
    )
    second = check_changes(
        CONTRACT, [add(room_key="R1"), LineChange(ChangeKind.REMOVED, line_key="R2.1")]
    )
    _, a = build_diff(CONTRACT, first, key_prefix="CO-001", signed_total_minor=0)
    _, b = build_diff(CONTRACT, second, key_prefix="CO-001", signed_total_minor=0)
    changed = {(c.key, c.description): c for c in compare(a, b)}
    # The subwoofer is CO-001.2 in the first revision and CO-001.1 in the second: unchanged.
    assert set(changed) == {
        ("R1.1", "Sonos Arc - Soundbar"),
        ("R2.1", "Managed switch"),
        ("CO-001.1", "Cables"),
    }
    assert changed[("CO-001.1", "Cables")].after is None
    assert changed[("R1.1", "Sonos Arc - Soundbar")].after.kind == LineDiffKind.UNCHANGED  # type: ignore[union-attr]
