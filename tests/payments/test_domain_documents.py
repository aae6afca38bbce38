"""What the invoice, receipt and statement PDFs say, decided in pure code."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from services.chassis.errors import InvalidArgument, InvalidTransition
from services.payments.domain_documents import (
    Entry,
    EntryKind,
    Settled,
    build_statement,
    check_receipt,
    check_statement_range,
    left_after,
    method_in_words,
    receipt_ordinal,
    receipt_title,
    statement_filename,
)

T0 = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


def test_methods_read_as_words_never_codes():
    assert method_in_words("card", card_brand="visa", card_last4="4242") == "Visa card ending 4242"
    assert method_in_words("card", card_brand="amex") == "American Express card"
    assert method_in_words("card") == "Card"
    assert method_in_words("bank_transfer") == "Bank transfer"
    assert method_in_words("bacs_debit") == "Bacs Direct Debit"
    assert method_in_words("us_bank_account") == "ACH bank debit"
    assert method_in_words("some_new_method") == "Some new method"


def test_only_a_payment_that_succeeded_has_a_receipt():
    check_receipt(succeeded=True)
    with pytest.raises(InvalidTransition) as err:
        check_receipt(succeeded=False)
    assert err.value.field == "payment_id"


def _settled(minutes: int, amount: int) -> Settled:
    at = T0 + timedelta(minutes=minutes)
    return Settled(key=(at, at, f"p{minutes}"), applied_minor=amount)


def test_a_receipt_says_what_was_left_when_the_money_arrived_not_now():
    first, second, third = _settled(0, 30_000), _settled(10, 50_000), _settled(20, 20_000)
    settled = [third, first, second]  # in any order
    assert left_after(100_000, settled, [], this=first) == 70_000
    assert left_after(100_000, settled, [], this=second) == 20_000
    assert left_after(100_000, settled, [], this=third) == 0
    assert [receipt_ordinal(settled, s) for s in (first, second, third)] == [1, 2, 3]


def test_a_refund_before_a_payment_counts_on_its_receipt_and_a_later_one_does_not():
    first, second = _settled(0, 60_000), _settled(30, 40_000)
    refunds = [(T0 + timedelta(minutes=5), 10_000), (T0 + timedelta(minutes=40), 5_000)]
    assert left_after(100_000, [first, second], refunds, this=first) == 40_000
    assert left_after(100_000, [first, second], refunds, this=second) == 10_000


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        (None, date(2026, 1, 1), "from_date"),
        (date(2026, 1, 1), None, "to_date"),
        (date(2026, 2, 1), date(2026, 1, 31), "to_date"),
        (date(2000, 1, 1), date(2026, 1, 1), "from_date"),
    ],
)
def test_a_statement_range_must_be_two_days_in_order_and_not_a_century(start, end, field):
    with pytest.raises(InvalidArgument) as err:
        check_statement_range(start, end)
    assert err.value.field == field


def test_a_one_day_statement_is_fine():
    day = date(2026, 3, 1)
    assert check_statement_range(day, day) == (day, day)
    assert statement_filename(day, day) == "statement-2026-03-01-to-2026-03-01.pdf"


def _entry(on: date, kind: EntryKind, amount: int, currency: str = "GBP", n: int = 0) -> Entry:
    at = datetime(on.year, on.month, on.day, 12, n, tzinfo=UTC)
    return Entry(on, kind, "INV-1001", "", amount, currency, (at, str(n)))


def test_a_statement_opens_with_what_was_owed_and_runs_a_balance_to_the_close():
    entries = [
        _entry(date(2026, 9, 1), EntryKind.INVOICE, 100_000),  # before: opening
        _entry(date(2026, 9, 20), EntryKind.PAYMENT, 40_000),  # before: opening
        _entry(date(2026, 10, 3), EntryKind.INVOICE, 50_000),
        _entry(date(2026, 10, 5), EntryKind.PAYMENT, 60_000),
        _entry(date(2026, 10, 9), EntryKind.REFUND, 10_000),
        _entry(date(2026, 10, 12), EntryKind.INVOICE, 7_000, n=1),
        _entry(date(2026, 10, 12), EntryKind.VOID, 7_000, n=2),
        _entry(date(2026, 11, 2), EntryKind.PAYMENT, 1_000),  # after: left out
    ]
    (section,) = build_statement(
        entries, start=date(2026, 10, 1), end=date(2026, 10, 31), currency="GBP"
    )
    assert section.opening_minor == 60_000
    assert [balance for _, balance in section.rows] == [110_000, 50_000, 60_000, 67_000, 60_000]
    assert section.closing_minor == 60_000
    assert section.invoiced_minor == 50_000  # the voided one nets to nothing
    assert section.received_minor == 50_000  # 60,000 received less 10,000 refunded
    assert section.opening_minor + section.invoiced_minor - section.received_minor == 60_000


def test_each_currency_is_its_own_account_and_an_idle_one_is_left_out():
    entries = [
        _entry(date(2026, 10, 3), EntryKind.INVOICE, 50_000, "GBP"),
        _entry(date(2026, 10, 4), EntryKind.INVOICE, 120_000, "JPY"),
        _entry(date(2026, 1, 4), EntryKind.INVOICE, 5_000, "USD"),
        _entry(date(2026, 1, 5), EntryKind.PAYMENT, 5_000, "USD"),
    ]
    sections = build_statement(
        entries, start=date(2026, 10, 1), end=date(2026, 10, 31), currency="GBP"
    )
    assert [(s.currency, s.closing_minor) for s in sections] == [("GBP", 50_000), ("JPY", 120_000)]


def test_a_quiet_period_still_gives_one_statement_in_the_tenants_currency():
    (section,) = build_statement(
        [], start=date(2026, 10, 1), end=date(2026, 10, 31), currency="USD"
    )
    assert (section.currency, section.opening_minor, section.rows) == ("USD", 0, ())


def test_a_receipt_s_title_names_it_the_amount_and_the_day():
    title = receipt_title(
        invoice_number="INV-1002",
        ordinal=2,
        amount_minor=50_000,
        currency="USD",
        received_on=date(2026, 12, 2),
    )
    assert title == "Receipt R2 for INV-1002: $500.00 on 2 Dec 2026"
    yen = receipt_title(
        invoice_number="INV-7",
        ordinal=1,
        amount_minor=5000,
        currency="JPY",
        received_on=date(2026, 1, 9),
    )
    assert yen == "Receipt R1 for INV-7: ¥5,000 on 9 Jan 2026"
