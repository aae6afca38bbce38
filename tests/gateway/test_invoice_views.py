"""What the invoice pages show, from the API's models: status words, who may
pay and why not, the chosen amount, the pay page's CSP."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from gateway.api.payments.shapes import Invoice, Payment, PaymentSettings
from gateway.api.translate import MoneyOut
from gateway.pages import invoice_views as views
from services.chassis.auth import Principal


def usd(minor: int) -> MoneyOut:
    return MoneyOut(currency="USD", amount_minor=minor, formatted="")


def payment(status: str = "succeeded", **changes) -> Payment:
    fields = dict(
        id=uuid.uuid4(),
        status=status,
        method="card",
        applied=usd(10_000),
        surcharge=None,
        discount=None,
        charged=usd(10_000),
        refunded=None,
        reference="",
        failure_message="",
        expected_by=None,
        received_on=None,
        card_brand="visa",
        card_last4="4242",
        created_at=None,
        succeeded_at=None,
    )
    return Payment(**(fields | changes))


def invoice(status: str = "open", *, payable: int = 200_000, **changes) -> Invoice:
    fields = dict(
        id=uuid.uuid4(),
        number="INV-1001",
        project_id=uuid.uuid4(),
        project_name="Media room",
        project_reference="P-1",
        customer_id=uuid.uuid4(),
        status=status,
        overdue=False,
        lines=[],
        subtotal=usd(200_000),
        tax_rate_bps=0,
        tax=usd(0),
        total=usd(200_000),
        paid=usd(0),
        due=usd(payable),
        processing=usd(0),
        payable=usd(payable),
        issued_on=date(2026, 3, 2),
        due_on=date(2026, 3, 16),
        memo="",
        milestone="acceptance",
        payments=[],
    )
    return Invoice(**(fields | changes))


def client(*, roles=("approver",), read_only: bool = False) -> Principal:
    return Principal(
        kind="client",
        subject=str(uuid.uuid4()),
        tenant_id=str(uuid.uuid4()),
        customer_id=str(uuid.uuid4()),
        roles=frozenset(roles),
        read_only=read_only,
    )


SETTINGS = PaymentSettings(
    stripe_account_id="",
    publishable_key="pk_test_x",
    minimum_payment_minor=5_000,
    card_surcharge_bps=0,
    bank_discount_bps=0,
    region="US",
    default_terms_days=14,
    default_plan=[],
    invoice_prefix="INV",
    currency="USD",
    time_zone="America/New_York",
    variation_rule="spread",
)


def test_status_words_say_processing_with_the_expected_date():
    bank = payment("processing", method="us_bank_account", expected_by=date(2026, 3, 6))
    shown = invoice("processing", payments=[bank], processing=usd(200_000), payable=0)
    assert views.status_words(shown) == "Processing, expected by 6 Mar 2026"
    assert views.payment_words(bank) == "Processing, expected by 6 Mar 2026"


@pytest.mark.parametrize(
    ("status", "overdue", "words"),
    [
        ("open", False, "Due"),
        ("open", True, "Overdue"),
        ("partially_paid", False, "Partly paid"),
        ("partially_paid", True, "Partly paid, overdue"),
        ("paid", False, "Paid"),
        ("void", False, "Cancelled"),
    ],
)
def test_status_words(status, overdue, words):
    assert views.status_words(invoice(status, overdue=overdue)) == words


def test_the_ledger_lists_open_invoices_first():
    paid, due = invoice("paid", payable=0), invoice("partially_paid")
    assert views.ledger([paid, due]) == ([due], [paid])


@pytest.mark.parametrize(
    ("principal", "viewing_as", "settings", "state"),
    [
        (client(), False, SETTINGS, "pay"),
        (client(read_only=True), False, SETTINGS, "archived"),
        (client(read_only=True), True, SETTINGS, "view_as"),
        (client(roles=("viewer",)), False, SETTINGS, "viewer"),
        (client(), False, SETTINGS.model_copy(update={"publishable_key": ""}), "not_set_up"),
        (client(), False, None, "not_set_up"),
    ],
)
def test_who_is_offered_the_pay_button(principal, viewing_as, settings, state):
    assert (
        views.pay_state(invoice(), principal, viewing_as_client=viewing_as, settings=settings)
        == state
    )


def test_nothing_to_pay_on_a_paid_invoice_or_one_whose_balance_is_on_its_way():
    args = {"viewing_as_client": False, "settings": SETTINGS}
    assert views.pay_state(invoice("paid", payable=0), client(), **args) == "closed"
    assert views.pay_state(invoice("processing", payable=0), client(), **args) == "nothing_due"


def test_a_settled_invoice_says_so_in_its_pay_box():
    assert views.settled_heading(invoice("paid", payable=0)) == "Paid in full"
    assert views.settled_heading(invoice("void", payable=0)) == "Cancelled: nothing to pay"
    assert views.settled_heading(invoice("uncollectible", payable=0)).startswith("Written off")


def test_the_chosen_amount_is_the_balance_or_what_was_typed():
    shown = invoice(payable=200_000)
    assert views.chosen_amount("full", "", shown).amount_minor == 200_000
    assert views.chosen_amount("part", "1,250.50", shown).amount_minor == 125_050
    assert views.chosen_amount("part", "", shown).error
    assert views.chosen_amount("part", "12.345", shown).error == "Use at most 2 decimal places."
    assert views.chosen_amount("part", "0", shown).error


def test_the_part_hint_names_the_minimum_and_the_most():
    assert views.part_hint(invoice(payable=200_000), 5_000) == "At least $50.00, at most $2,000.00."
    assert views.part_hint(invoice(payable=3_000), 5_000) == "At most $30.00."


def test_the_pay_page_csp_allows_stripe_and_nothing_inline():
    csp = views.stripe_csp("https://js.stripe.com/v3/")
    assert "script-src 'self' https://js.stripe.com;" in csp
    assert "connect-src 'self' https://api.stripe.com" in csp
    assert "frame-src https://js.stripe.com https://hooks.stripe.com" in csp
    assert "unsafe-inline" not in csp
    offline = views.stripe_csp("http://127.0.0.1:4242/js.stripe.com/v3/")
    assert "script-src 'self' http://127.0.0.1:4242;" in offline
    assert "connect-src 'self' http://127.0.0.1:4242" in offline
