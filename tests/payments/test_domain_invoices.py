"""Invoice rules: totals, the one rounding rule, and the status a ledger implies."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.chassis.errors import InvalidArgument, InvalidTransition
from services.payments import domain_invoices as inv
from services.payments.domain_invoices import InvoiceState, InvoiceStatus, Ledger

ISSUED = InvoiceState(issued=True)


def test_tax_is_on_the_whole_subtotal_half_up_not_per_line():
    lines = inv.check_lines([("Cable", 3, 333), ("Labour", 1, 1)])  # 1,000 in all
    t = inv.totals(lines, 25)  # 0.25 % of 1,000 = 2.5 -> 3 (per line: 2 + 0)
    assert (t.subtotal_minor, t.tax_minor, t.total_minor) == (1_000, 3, 1_003)


def test_credit_lines_are_allowed_but_the_invoice_must_be_worth_something():
    lines = inv.check_lines([("Rack", 1, 50_000), ("Less deposit", 1, -20_000)])
    assert inv.totals(lines, 0).total_minor == 30_000
    with pytest.raises(InvalidArgument) as err:
        inv.totals(inv.check_lines([("Refund", 1, -5)]), 0)
    assert err.value.field == "lines"


@pytest.mark.parametrize(
    ("row", "field"),
    [
        (("", 1, 100), "lines[0].description"),
        (("Amp", 0, 100), "lines[0].quantity"),
        (("Amp", 10_001, 100), "lines[0].quantity"),
        (("Amp", 1, 2**63), "lines[0].unit_price_minor"),
        (("Amp", 1, -(2**63)), "lines[0].unit_price_minor"),
    ],
)
def test_a_bad_line_is_refused_naming_its_field(row, field):
    with pytest.raises(InvalidArgument) as err:
        inv.check_lines([row])
    assert err.value.field == field


def test_an_invoice_needs_lines_and_a_bounded_number_of_them():
    with pytest.raises(InvalidArgument):
        inv.check_lines([])
    with pytest.raises(InvalidArgument):
        inv.check_lines([("x", 1, 1)] * (inv.MAX_LINES + 1))


def test_the_largest_invoice_still_fits_64_bits():
    lines = inv.check_lines([("x", inv.MAX_QUANTITY, inv.MAX_UNIT_PRICE_MINOR)] * inv.MAX_LINES)
    assert inv.totals(lines, inv.MAX_TAX_RATE_BPS).total_minor < 2**63


def test_status_follows_the_ledger():
    assert inv.status(InvoiceState(issued=False), Ledger(100)) is InvoiceStatus.DRAFT
    assert inv.status(ISSUED, Ledger(100)) is InvoiceStatus.OPEN
    assert inv.status(ISSUED, Ledger(100, succeeded_minor=40)) is InvoiceStatus.PARTIALLY_PAID
    assert inv.status(ISSUED, Ledger(100, processing_minor=100)) is InvoiceStatus.PROCESSING
    assert (
        inv.status(ISSUED, Ledger(100, succeeded_minor=60, processing_minor=40))
        is InvoiceStatus.PROCESSING
    )
    assert inv.status(ISSUED, Ledger(100, processing_minor=30)) is InvoiceStatus.PARTIALLY_PAID
    assert inv.status(ISSUED, Ledger(100, succeeded_minor=100)) is InvoiceStatus.PAID
    refunded = Ledger(100, succeeded_minor=100, refunded_minor=30)
    assert inv.status(ISSUED, refunded) is InvoiceStatus.PARTIALLY_PAID
    assert inv.status(InvoiceState(issued=True, voided=True), Ledger(100)) is InvoiceStatus.VOID


def test_a_part_paid_invoice_past_due_stays_part_paid_and_is_flagged_overdue():
    ledger = Ledger(100, succeeded_minor=40)
    assert inv.status(ISSUED, ledger) is InvoiceStatus.PARTIALLY_PAID
    assert inv.is_overdue(ISSUED, ledger, due_on=date(2026, 1, 1), today=date(2026, 1, 2))
    assert not inv.is_overdue(ISSUED, ledger, due_on=date(2026, 1, 1), today=date(2026, 1, 1))
    # Money on its way from the bank is not overdue.
    covered = Ledger(100, succeeded_minor=40, processing_minor=60)
    assert not inv.is_overdue(ISSUED, covered, due_on=date(2026, 1, 1), today=date(2026, 2, 1))


def test_void_refuses_an_invoice_holding_money():
    with pytest.raises(InvalidTransition):
        inv.plan_void(ISSUED, Ledger(100, succeeded_minor=1))
    with pytest.raises(InvalidTransition):
        inv.plan_void(ISSUED, Ledger(100, processing_minor=1))
    inv.plan_void(ISSUED, Ledger(100, succeeded_minor=50, refunded_minor=50))


def test_issue_twice_is_refused():
    with pytest.raises(InvalidTransition):
        inv.plan_issue(ISSUED)
    inv.plan_issue(InvoiceState(issued=False))


def test_numbers_and_due_dates():
    assert inv.format_number("INV", 1247) == "INV-1247"
    assert inv.format_number("INV", 7) == "INV-0007"
    assert inv.due_date(date(2026, 2, 20), 14) == date(2026, 3, 6)
    with pytest.raises(InvalidArgument):
        inv.due_date(date(2026, 2, 20), 366)


@given(
    total=st.integers(1, 10**12),
    payments=st.lists(st.integers(1, 10**11), max_size=20),
    refund_share=st.integers(0, 100),
)
def test_paid_plus_due_is_the_total_to_the_minor_unit(total, payments, refund_share):
    succeeded = 0
    for amount in payments:
        ledger = Ledger(total, succeeded_minor=succeeded)
        if ledger.payable_minor == 0:
            break
        succeeded += min(amount, ledger.payable_minor)
    refunded = succeeded * refund_share // 100
    ledger = Ledger(total, succeeded_minor=succeeded, refunded_minor=refunded)
    assert ledger.paid_minor + ledger.due_minor == total
    assert 0 <= ledger.due_minor <= total
    expected_paid = ledger.due_minor == 0
    assert (inv.status(ISSUED, ledger) is InvoiceStatus.PAID) is expected_paid
