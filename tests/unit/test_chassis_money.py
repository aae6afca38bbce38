"""The suite's one money module: how amounts read, and the arithmetic."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from portal.common.v1 import common_pb2

from services.chassis import money as m


def test_exponents_are_iso_4217_minor_units_not_display_rounding():
    assert [m.exponent(c) for c in ("USD", "GBP", "EUR", "JPY", "KWD", "CLF")] == [2, 2, 2, 0, 3, 4]
    # CLDR shows these without decimals; their stored amounts still have them.
    assert (m.exponent("HUF"), m.exponent("IDR"), m.exponent("IQD")) == (2, 2, 3)
    assert m.exponent("jpy") == 0
    with pytest.raises(ValueError):
        m.exponent("YEN!")


@pytest.mark.parametrize(
    ("minor", "currency", "text"),
    [
        (123456, "USD", "$1,234.56"),
        (123456, "GBP", "£1,234.56"),
        (123456, "EUR", "€1,234.56"),
        (123456, "JPY", "¥123,456"),
        (1234, "KWD", "KWD 1.234"),
        (550, "CHF", "CHF 5.50"),
        (500, "CAD", "CA$5.00"),
        (500, "AUD", "A$5.00"),
        (-50000, "GBP", "-£500.00"),
        (0, "USD", "$0.00"),
        (2**63 - 1, "USD", "$92,233,720,368,547,758.07"),
    ],
)
def test_amounts_read_one_way(minor, currency, text):
    assert m.format_amount(minor, currency) == text
    assert m.format_money(common_pb2.Money(currency=currency, amount_minor=minor)) == text


def test_an_unset_money_is_a_dash():
    assert m.format_money(None) == m.format_money(common_pb2.Money()) == "\u2014"


def test_sum_and_subtract_keep_to_one_currency():
    gbp = [m.money(150, "GBP"), m.money(250, "GBP")]
    assert m.total(gbp, currency="GBP") == m.money(400, "GBP")
    assert m.total([], currency="JPY") == m.money(0, "JPY")
    assert m.subtract(m.money(400, "GBP"), m.money(650, "GBP")) == m.money(-250, "GBP")
    with pytest.raises(ValueError, match="cannot add"):
        m.total([m.money(1, "GBP"), m.money(1, "USD")], currency="GBP")
    with pytest.raises(ValueError, match="cannot subtract"):
        m.subtract(m.money(1, "GBP"), m.money(1, "EUR"))
    with pytest.raises(OverflowError):
        m.total([m.money(2**63 - 1, "USD"), m.money(1, "USD")], currency="USD")


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("1,234.56", "USD", 123456),
        ("$1234.5", "USD", 123450),
        ("£ 1 234", "GBP", 123400),
        ("¥123,456", "JPY", 123456),
        ("1.234", "KWD", 1234),
        ("12 USD", "USD", 1200),
        ("", "USD", 0),
        (str(2**63 - 1), "JPY", 2**63 - 1),
    ],
)
def test_typed_amounts_become_minor_units(text, currency, minor):
    assert m.parse_amount(text, currency) == minor


@pytest.mark.parametrize(
    ("text", "currency", "message"),
    [
        ("1.234", "USD", "at most 2 decimal places"),
        ("5.5", "JPY", "at most 0 decimal places"),
        ("-5", "USD", "zero or more"),
        ("abc", "USD", "like 1,234.56"),
        ("Infinity", "USD", "like 1,234.56"),
        (str(2**63), "JPY", "too large"),
        ("92233720368547758.08", "USD", "too large"),
    ],
)
def test_typed_amounts_are_refused_with_a_sentence(text, currency, message):
    with pytest.raises(ValueError, match=message):
        m.parse_amount(text, currency)


def test_a_credit_may_be_negative_where_allowed():
    assert m.parse_amount("-£12.50", "GBP", allow_negative=True) == -1250


def test_allocation_gives_the_leftover_units_to_the_largest_remainders():
    assert m.allocate(100, [1, 1, 1]) == [34, 33, 33]
    assert m.allocate_percent_bps(1001, [3000, 7000]) == [300, 701]
    assert m.allocate(-100, [1, 1, 1]) == [-34, -33, -33]
    assert m.allocate(5, [0, 1]) == [0, 5]
    with pytest.raises(ValueError, match="100 %"):
        m.allocate_percent_bps(1000, [3000, 6000])
    with pytest.raises(ValueError):
        m.allocate(100, [0, 0])


@given(
    total=st.integers(min_value=-(2**62), max_value=2**62),
    weights=st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=12).filter(
        lambda w: sum(w) > 0
    ),
)
def test_shares_always_sum_to_the_total_and_stay_within_one_unit(total, weights):
    shares = m.allocate(total, weights)
    assert sum(shares) == total
    whole = sum(weights)
    for share, weight in zip(shares, weights, strict=True):
        assert abs(share * whole - total * weight) < whole  # within one minor unit of exact


def test_rates_read_one_way():
    assert (m.format_percent_bps(825), m.format_percent_bps(800)) == ("8.25", "8")
    assert (m.format_rate(825), m.format_rate(850), m.format_rate(2000)) == (
        "8.25 %",
        "8.5 %",
        "20 %",
    )
    assert m.parse_percent_bps("8.25 %") == 825
    with pytest.raises(ValueError):
        m.parse_percent_bps("8.255")


def test_the_currency_picker_lists_the_currencies_in_use_with_their_names():
    choices = dict(m.currency_choices())
    assert choices["USD"] == "US Dollar" and choices["GBP"] == "British Pound"
    assert choices["JPY"] == "Japanese Yen"
    assert "DEM" not in choices and "XAU" not in choices  # withdrawn; a metal, not tender
    assert list(choices) == sorted(choices)
    assert set(choices) == m.currency_codes()
