"""Pay now by bank debit: localstripe knows neither us_bank_account nor
bacs_debit PaymentMethods, nor `mandate_data`, so the real Stripe SDK talks
here to a local server that plays the calls (tests/payments/stripe_calls.py)
and records what Stripe would receive. The intent answers `processing`, as
Stripe's does for a submitted debit; its webhooks later are
tests/payments/test_pay_now.py's, micro-deposits test_microdeposits.py's."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from google.protobuf.field_mask_pb2 import FieldMask
from portal.common.v1 import common_pb2
from portal.payments.v1 import payments_pb2 as pb
from portal.projects.v1 import events_pb2 as projects_events

from services.chassis.errors import InvalidArgument, InvalidTransition
from services.payments import domain_bank_debits, service
from services.payments.domain_payments import Method
from services.payments.stripe_gateway import StripeGateway
from tests.payments.conftest import Integrator
from tests.payments.stripe_calls import FakeDebits, serve_debits

BACS = {
    "method": "bacs_debit",
    "account_holder_name": "Jane Harrison",
    "email": "jane@example.com",
    "sort_code": "10-88-00",
    "account_number": "00012345",
    "mandate_accepted": True,
    "ip_address": "203.0.113.9",
    "user_agent": "Mozilla/5.0 (iPhone)",
}


@pytest.fixture
async def debits() -> AsyncIterator[FakeDebits]:
    async for fake in serve_debits():
        yield fake


async def turn_on(acme: Integrator, **toggles: bool) -> str:
    account = f"acct_{uuid.uuid4().hex[:16]}"  # one tenant per connected account
    await acme(
        "UpdatePaymentSettings",
        pb.UpdatePaymentSettingsRequest(
            settings=pb.PaymentSettings(stripe_account_id=account, **toggles),
            update_mask=FieldMask(paths=["stripe_account_id", *toggles]),
        ),
        acme.finance,
    )
    return account


async def pay_by_debit(acme, fake, invoice: pb.Invoice, attempt: str, **changes):
    """`fake`: FakeDebits, or a StripeGateway (localstripe's)."""
    api = (
        fake
        if isinstance(fake, StripeGateway)
        else StripeGateway(api_key="sk_test_x", webhook_secret="whsec_x", api_base=fake.url)
    )
    return await service.start_payment(
        sessions=acme.svc.sessions,
        stripe_api=api,
        principal=acme.approver,
        invoice_id=invoice.id,
        attempt_id=attempt,
        amount_minor=invoice.due.amount_minor,
        currency="GBP",
        payment_method_id="",
        bank_debit=BACS | changes,
    )


@pytest.fixture
async def deposit(acme: Integrator) -> pb.Invoice:
    await acme.accept(total_minor=200_000)
    (invoice,) = await acme.invoices()
    return invoice


async def test_bacs_is_refused_until_the_integrator_turns_it_on(acme, deposit, debits):
    with pytest.raises(InvalidArgument, match="not offered"):
        await pay_by_debit(acme, debits, deposit, str(uuid.uuid4()))
    await turn_on(acme, ach_debit_enabled=True)  # ACH debits dollars: not this GBP invoice
    with pytest.raises(InvalidArgument, match="not offered"):
        await pay_by_debit(acme, debits, deposit, str(uuid.uuid4()))
    assert debits.forms == []  # Stripe was never asked


async def test_no_debit_without_the_mandate_ticked(acme, deposit, debits):
    await turn_on(acme, bacs_debit_enabled=True)
    with pytest.raises(InvalidArgument, match="mandate"):
        await pay_by_debit(acme, debits, deposit, str(uuid.uuid4()), mandate_accepted=False)
    assert debits.forms == []


async def test_a_bacs_debit_is_processing_with_its_mandate_and_never_paid(acme, deposit, debits):
    account = await turn_on(acme, bacs_debit_enabled=True)
    attempt = str(uuid.uuid4())
    started = await pay_by_debit(acme, debits, deposit, attempt)
    again = await pay_by_debit(acme, debits, deposit, attempt)  # a double click
    assert again.payment.id == started.payment.id

    (pm,) = debits.posted("/v1/payment_methods")
    assert pm["type"] == "bacs_debit" and pm["bacs_debit[sort_code]"] == "108800"
    assert pm["bacs_debit[account_number]"] == "00012345"
    assert pm["billing_details[email]"] == "jane@example.com"
    (pi,) = debits.posted("/v1/payment_intents")
    assert pi["payment_method_types[0]"] == "bacs_debit"
    assert pi["amount"] == str(deposit.due.amount_minor)
    assert pi["mandate_data[customer_acceptance][type]"] == "online"
    assert pi["mandate_data[customer_acceptance][online][ip_address]"] == "203.0.113.9"
    headers = next(h for p, _, h in debits.forms if p == "POST /v1/payment_intents")
    assert headers["Stripe-Account"] == account

    shown = (
        await acme("GetInvoice", pb.GetInvoiceRequest(invoice_id=deposit.id), acme.finance)
    ).invoice
    assert shown.status == pb.INVOICE_STATUS_PROCESSING and shown.paid.amount_minor == 0
    (debit,) = shown.payments
    assert debit.method == "bacs_debit" and debit.expected_by  # "expected by DATE"
    assert debit.status == pb.PAYMENT_STATUS_PROCESSING


async def test_localstripe_cannot_play_a_bacs_debit_and_the_client_is_told(
    acme, deposit, stripe_api
):
    """What `make run` does today: localstripe 1.15 knows card and sepa_debit
    PaymentMethods only, so the debit is refused in words and nothing is held."""
    await turn_on(acme, bacs_debit_enabled=True)
    with pytest.raises(InvalidTransition, match="could not set up this debit"):
        await pay_by_debit(acme, stripe_api, deposit, str(uuid.uuid4()))
    shown = (
        await acme("GetInvoice", pb.GetInvoiceRequest(invoice_id=deposit.id), acme.finance)
    ).invoice
    assert shown.status == pb.INVOICE_STATUS_OPEN and not shown.payments


async def test_the_invoice_says_which_bank_debits_payments_offers(acme, deposit):
    """The pay page renders `bank_debits` as given: payments applies the rule
    (the invoice's currency, the tenant's toggles) and is the only one that does."""

    async def offered(who) -> tuple[list[str], list[str]]:
        got = (await acme("GetInvoice", pb.GetInvoiceRequest(invoice_id=deposit.id), who)).invoice
        (listed,) = await acme.invoices(who)
        return list(got.bank_debits), list(listed.bank_debits)

    assert await offered(acme.approver) == ([], [])  # off by default
    await turn_on(acme, ach_debit_enabled=True)  # ACH debits dollars: not this GBP invoice
    assert await offered(acme.approver) == ([], [])
    await turn_on(acme, bacs_debit_enabled=True)
    assert await offered(acme.approver) == (["bacs_debit"], ["bacs_debit"])
    assert await offered(acme.finance) == (["bacs_debit"], ["bacs_debit"])


async def test_a_dollar_invoice_offers_ach_only(payments):
    """A US integrator's invoice: ACH where it is on, never Bacs."""
    us = Integrator(payments)
    await us.deliver(
        projects_events.ProposalAccepted(
            proposal_id=str(uuid.uuid4()),
            project_id=us.project_id,
            project_name="Media room",
            reference="PRJ-0002",
            customer_id=us.customer_id,
            version=1,
            total=common_pb2.Money(currency="USD", amount_minor=500_000),
            tax=common_pb2.Money(currency="USD", amount_minor=0),
            client_name="The Lees",
            letterhead=common_pb2.Letterhead(time_zone="America/New_York"),
        )
    )
    await turn_on(us, bacs_debit_enabled=True)
    (invoice,) = await us.invoices(us.approver)
    assert invoice.total.currency == "USD" and list(invoice.bank_debits) == []
    await turn_on(us, ach_debit_enabled=True)
    (invoice,) = await us.invoices(us.approver)
    assert list(invoice.bank_debits) == ["us_bank_account"]


def test_only_the_debit_of_the_invoices_currency_is_offered():
    both = {"ach_enabled": True, "bacs_enabled": True}
    assert domain_bank_debits.offered("USD", **both) == [Method.US_BANK_ACCOUNT]
    assert domain_bank_debits.offered("GBP", **both) == [Method.BACS_DEBIT]
    assert domain_bank_debits.offered("EUR", **both) == []
    assert domain_bank_debits.offered("GBP", ach_enabled=True, bacs_enabled=False) == []


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"routing_number": "12345678"}, "9 digits"),
        ({"account_number": "12"}, "4 to 17 digits"),
        ({"account_holder_name": " "}, "account"),
    ],
)
def test_ach_details_are_checked_before_stripe_is_asked(changes, words):
    fields = {
        "account_holder_name": "Sam Lee",
        "email": "",
        "routing_number": "110000000",
        "sort_code": "",
        "account_number": "000123456789",
        "mandate_accepted": True,
        "ip_address": "",
        "user_agent": "",
    } | changes
    with pytest.raises(InvalidArgument, match=words):
        domain_bank_debits.check_bank_debit(
            "us_bank_account", currency="USD", ach_enabled=True, bacs_enabled=False, **fields
        )
