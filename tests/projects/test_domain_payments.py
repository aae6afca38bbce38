"""Which of payments' reports is newer, and what the board shows for one."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from services.projects import domain_payments as d

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
OPEN = d.Standing(
    invoice_id="7d1c",
    number="INV-1001",
    status="open",
    currency="JPY",
    total_minor=200_000,
    due_minor=200_000,
    processing_minor=0,
    due_on=date(2026, 12, 12),
    expected_by=None,
    milestone_label="Deposit",
    as_of=T0,
)


def test_an_open_invoice_waits_with_the_amount_the_portal_writes():
    waiting = d.waiting_for(OPEN)
    assert waiting == d.Waiting(
        True, "Invoice INV-1001, ¥200,000 due 12 Dec 2026", "/invoices/7d1c"
    )


def test_what_is_on_its_way_is_not_asked_for_again():
    part = replace(OPEN, status="partially_paid", processing_minor=50_000)
    assert d.waiting_for(part).title == "Invoice INV-1001, ¥150,000 due 12 Dec 2026"
    whole = replace(OPEN, status="processing", processing_minor=200_000)
    assert d.waiting_for(whole) == d.Waiting(False)
    assert d.on_its_way(whole)


def test_paid_void_and_written_off_invoices_wait_on_nobody():
    for status in ("paid", "void", "uncollectible"):
        assert d.waiting_for(replace(OPEN, status=status)) == d.Waiting(False)


def test_the_newest_report_wins_and_an_older_one_is_ignored():
    later = replace(OPEN, status="paid", due_minor=0, as_of=T0 + timedelta(seconds=1))
    assert d.plan_standing(None, "", OPEN) is not None
    assert d.plan_standing(T0, "open", later) is not None
    assert d.plan_standing(later.as_of, "paid", OPEN) is None


def test_of_one_instant_the_further_state_wins():
    assert d.is_newer(T0, "open", replace(OPEN, status="paid"))
    assert not d.is_newer(T0, "paid", OPEN)
    assert not d.is_newer(T0, "paid", replace(OPEN, status="paid"))  # the same report again


def test_a_plan_report_must_be_strictly_newer():
    n = d.NextPayment("Deposit", "acceptance", "GBP", 1, "", "", None, T0)
    assert d.is_newer_plan(None, n)
    assert not d.is_newer_plan(T0, n)
    assert d.is_newer_plan(T0 - timedelta(microseconds=1), n)
