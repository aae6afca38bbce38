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


# -- the next payment's words, while a bank debit waits for verification -------------


def when(held: int, *, awaiting: bool = True, due_on: date | None = date(2026, 12, 12)):
    return d.next_payment_when(
        200_000, "GBP", due_on, verifying_minor=held, awaiting_verification=awaiting
    )


def test_a_milestone_not_invoiced_yet_falls_due_at_its_event():
    assert d.planned_when("acceptance") == "on acceptance"
    assert [d.planned_when(t) for t in ("procurement", "install", "commissioning", "handover")] == [
        "at procurement",
        "at install",
        "at commissioning",
        "at handover",
    ]
    assert d.planned_when("somewhere") == ""  # said wrongly is worse than not said


def test_the_next_payment_is_due_on_its_date_when_nothing_is_held():
    assert when(0) == d.NextPaymentWhen(0, "due 12 Dec 2026")
    assert when(0, due_on=None) == d.NextPaymentWhen(0, "")


def test_all_of_it_held_asks_the_client_to_verify_not_to_pay():
    assert when(200_000) == d.NextPaymentWhen(200_000, d.VERIFY_WHEN)
    assert d.VERIFY_WHEN == "waiting for you to verify your bank account"


def test_a_part_held_says_what_is_held_and_what_is_still_due():
    assert when(50_000) == d.NextPaymentWhen(
        50_000, "£500.00 held for verification, £1,500.00 due 12 Dec 2026"
    )
    assert when(50_000, due_on=None).when == "£500.00 held for verification, £1,500.00 due"


def test_only_payments_flag_holds_it_and_never_more_than_the_payment():
    # Verified (processing) or lapsed: payments clears the flag; the money is due as before.
    assert when(50_000, awaiting=False) == d.NextPaymentWhen(0, "due 12 Dec 2026")
    # A debit larger than what is left (the rest paid meanwhile) holds all of it, no more.
    assert when(300_000).held_minor == 200_000
