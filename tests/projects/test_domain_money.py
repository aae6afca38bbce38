"""Money arithmetic: integer minor units, tax once on the subtotal, half-up."""

import pytest
from sqlalchemy import CheckConstraint, String

from services.chassis import money as chassis_money
from services.chassis.errors import InvalidArgument
from services.chassis.validation import REQUEST_ID_MAX
from services.projects import domain, domain_proposals, domain_rooms
from services.projects import domain_money as money
from services.projects.models import Base


def test_line_total_is_quantity_times_unit_price():
    assert money.line_total(3, 1_999) == 5_997
    assert money.line_total(10_000, 10**10) == 10**14  # the largest line fits easily


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [(14_999, 10_000, 1), (15_000, 10_000, 2), (25_000, 10_000, 3), (5, 10, 1), (4, 10, 0)],
)
def test_round_half_up_rounds_halves_up_not_to_even(numerator, denominator, expected):
    assert chassis_money.round_half_up(numerator, denominator) == expected


def test_round_half_up_on_negatives_rounds_away_from_zero():
    assert chassis_money.round_half_up(-15, 10) == -2
    assert chassis_money.round_half_up(-14, 10) == -1


def test_tax_is_rounded_half_up_on_the_subtotal():
    # 200 cents at 0.25 % is exactly half a cent: up, where banker's rounding gives 0.
    assert chassis_money.tax_on(200, 25) == 1
    # 8.25 % of 284,796 is 23,495.67.
    assert chassis_money.tax_on(284_796, 825) == 23_496
    assert chassis_money.tax_on(0, 825) == 0


def test_tax_once_on_the_subtotal_differs_from_summing_per_line_tax():
    # Three lines of 6 cents at 8.25 %: each line's tax is 0.495 c (0 when rounded),
    # the subtotal's is 1.485 c (1). Per-line rounding would lose a cent.
    lines = [6, 6, 6]
    per_line = sum(chassis_money.tax_on(amount, 825) for amount in lines)
    totals = money.totals(item_totals=lines, labour_minor=0, discount_minor=0, tax_rate_bps=825)
    assert per_line == 0
    assert totals.tax_minor == 1
    assert totals.total_minor == 19


def test_totals_add_labour_take_off_discount_then_tax():
    totals = money.totals(
        item_totals=[100_000, 50_000], labour_minor=20_000, discount_minor=10_000, tax_rate_bps=800
    )
    assert totals.items_minor == 150_000
    assert totals.subtotal_minor == 160_000
    assert totals.tax_minor == 12_800
    assert totals.total_minor == 172_800


def test_discount_may_equal_but_not_exceed_the_subtotal_before_discount():
    free = money.totals(item_totals=[500], labour_minor=500, discount_minor=1_000, tax_rate_bps=0)
    assert free.total_minor == 0
    with pytest.raises(InvalidArgument, match="cannot exceed the subtotal") as err:
        money.totals(item_totals=[500], labour_minor=500, discount_minor=1_001, tax_rate_bps=0)
    assert err.value.field == "discount_minor"


@pytest.mark.parametrize("quantity", [0, -1, 10_001])
def test_quantity_must_be_1_to_10000(quantity):
    with pytest.raises(InvalidArgument, match="quantity must be between 1 and 10000"):
        money.check_quantity(quantity)


def test_quantity_bounds_are_inclusive():
    assert money.check_quantity(1) == 1
    assert money.check_quantity(10_000) == 10_000


@pytest.mark.parametrize("price", [-1, 10**10 + 1])
def test_unit_price_must_be_0_to_10_to_the_10(price):
    with pytest.raises(InvalidArgument) as err:
        money.check_unit_price(price)
    assert err.value.field == "unit_price_minor"


def test_tax_rate_is_0_to_5000_basis_points():
    assert money.check_tax_rate(0) == 0
    assert money.check_tax_rate(5_000) == 5_000
    for bad in (-1, 5_001):
        with pytest.raises(InvalidArgument, match="tax_rate_bps") as err:
            money.check_tax_rate(bad)
        assert err.value.field == "tax_rate_bps"


def test_labour_and_discount_cannot_be_negative():
    with pytest.raises(InvalidArgument, match="labour_minor"):
        money.check_amount(-1, field="labour_minor")


def test_contract_value_is_accepted_total_plus_variations():
    assert money.contract_value(308_292, 0) == 308_292
    assert money.contract_value(308_292, -10_000) == 298_292  # a credit


def test_every_bound_the_database_checks_is_a_domain_rule_first():
    """A CHECK or a column length a request can reach fails as a 500; each has
    the domain bound in front of it, with the same numbers."""
    checks = {
        str(c.sqltext)
        for table in Base.metadata.tables.values()
        for c in table.constraints
        if isinstance(c, CheckConstraint)
    }
    assert f"quantity BETWEEN 1 AND {money.MAX_QUANTITY}" in checks
    assert f"unit_price_minor BETWEEN 0 AND {money.MAX_UNIT_PRICE_MINOR}" in checks
    assert f"tax_rate_bps BETWEEN 0 AND {money.MAX_TAX_RATE_BPS}" in checks
    assert "actual_finish >= actual_start" in checks  # domain_stages.finishes_before_start
    lengths = {
        (table.name, column.name): column.type.length
        for table in Base.metadata.tables.values()
        for column in table.columns
        if isinstance(column.type, String) and column.type.length
    }
    assert {lengths[(t, "request_id")] for t in ("project", "room", "proposal")} == {REQUEST_ID_MAX}
    assert lengths[("project", "name")] == domain.NAME_MAX
    assert lengths[("project", "site_address")] == domain.SITE_ADDRESS_MAX
    assert lengths[("project", "project_manager_email")] == domain.EMAIL_MAX
    assert lengths[("room", "name")] == domain_rooms.ROOM_NAME_MAX
    assert lengths[("product_line", "model")] == domain_rooms.MODEL_MAX
    assert lengths[("product_line", "manufacturer")] == domain_rooms.MANUFACTURER_MAX
    assert lengths[("proposal", "title")] == domain_proposals.TITLE_MAX
