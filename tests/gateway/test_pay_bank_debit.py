"""The pay page's bank debit, through the gateway against a payments fake:
offered exactly where payments' invoice says (`bank_debits`: payments alone
applies the currency and toggle rule, tests/payments/test_bank_debits.py), with the
discount and the mandate text; the form's details and the mandate reach
StartPayment's `bank_debit`; the client lands on the payment's page. The page
is shot in headless Chromium at 390 and 1280 px (tests/screenshots/pay-bacs-*).
localstripe cannot play bank debits, so no suite runs here; payments' side is
tests/payments/test_bank_debits.py."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from portal.common.v1 import common_pb2
from portal.payments.v1 import payments_pb2 as pb
from portal.payments.v1 import payments_pb2_grpc

from gateway.settings import GatewaySettings
from tests.browser.conftest import needs_chromium
from tests.gateway import identity_fakes as I
from tests.gateway.chromium_pages import in_chromium
from tests.gateway.payments_portal import Services, serving, signed_in

INVOICE_ID = str(uuid.uuid4())
PAYMENT_ID = str(uuid.uuid4())
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
SCREENSHOTS = Path(__file__).resolve().parent.parent / "screenshots"


def gbp(minor: int) -> common_pb2.Money:
    return common_pb2.Money(currency="GBP", amount_minor=minor)


class FakePayments(payments_pb2_grpc.PaymentsServiceServicer):
    def __init__(self) -> None:
        self.bacs = True  # the console's toggle
        self.offered = ["bacs_debit"]  # what payments says the invoice may be paid by
        self.started: list[pb.StartPaymentRequest] = []
        self.updated: list[pb.UpdatePaymentSettingsRequest] = []

    async def GetInvoice(self, request, context):
        return pb.GetInvoiceResponse(
            invoice=pb.Invoice(
                id=INVOICE_ID,
                number="INV-1002",
                project_id=str(uuid.uuid4()),
                customer_id=I.CUSTOMER_ID,
                status=pb.INVOICE_STATUS_OPEN,
                total=gbp(400_000),
                paid=gbp(0),
                due=gbp(400_000),
                processing=gbp(0),
                payable=gbp(400_000),
                issued_on="2026-03-02",
                due_on="2026-03-16",
                project_name="Cinema room",
                bank_debits=self.offered,
            )
        )

    async def GetPaymentSettings(self, request, context):
        return pb.GetPaymentSettingsResponse(
            settings=pb.PaymentSettings(
                publishable_key="pk_test_portal",
                stripe_account_id="acct_demo",
                minimum_payment_minor=50_000,
                bank_discount_bps=100,
                currency="GBP",
                region="GB",
                bacs_debit_enabled=self.bacs,
            )
        )

    async def UpdatePaymentSettings(self, request, context):
        self.updated.append(request)
        return await self.GetPaymentSettings(request, context)

    async def QuotePayment(self, request, context):
        amount = request.amount.amount_minor
        off = amount // 100 if request.method == "bacs_debit" else 0
        return pb.QuotePaymentResponse(
            applied=gbp(amount), discount=gbp(off), surcharge=gbp(0), charged=gbp(amount - off)
        )

    async def StartPayment(self, request, context):
        self.started.append(request)
        return pb.StartPaymentResponse(
            payment=pb.Payment(
                id=PAYMENT_ID,
                status=pb.PAYMENT_STATUS_PROCESSING,
                method="bacs_debit",
                expected_by="2026-03-11",
            )
        )


@pytest.fixture
async def services(keypair) -> AsyncIterator[Services]:
    async with serving(FakePayments(), keypair[1]) as running:
        yield running


@asynccontextmanager
async def portal(
    settings: GatewaySettings, services, *, staff: bool = False
) -> AsyncIterator[httpx.AsyncClient]:
    services[0].identity.session = I.staff_session() if staff else I.client_session()
    async with signed_in(settings, services) as c:
        c.headers["user-agent"] = "Mozilla/5.0 (iPhone) Safari/605"
        yield c


PAY = f"/invoices/{INVOICE_ID}/pay?choice=full"


async def test_bacs_is_offered_with_its_discount_and_mandate(settings, services):
    async with portal(settings, services) as client:
        page = await client.get(PAY)
    assert page.status_code == 200, page.text
    assert "Or pay by Bacs Direct Debit" in page.text
    assert "Bank debit discount" in page.text and "£40.00" in page.text
    assert "Direct Debit Guarantee" in page.text and "INV-1002" in page.text
    assert 'name="mandate_accepted"' in page.text and 'name="sort_code"' in page.text
    assert "bank debit (ACH)" not in page.text  # dollars only


async def test_no_bank_debit_when_payments_offers_none(settings, services):
    services[1].offered = []  # the toggle still reads on: the gateway does not decide
    async with portal(settings, services) as client:
        page = await client.get(PAY)
    assert page.status_code == 200 and "Direct Debit" not in page.text
    assert 'id="card-element"' in page.text  # the card form is still there


async def test_the_details_and_the_mandate_reach_payments(settings, services):
    async with portal(settings, services) as client:
        form = (await client.get(PAY)).text
        sent = await client.post(
            f"/invoices/{INVOICE_ID}/pay/bank",
            data={
                "csrf_token": CSRF.search(form).group(1),  # type: ignore[union-attr]
                "bank_attempt_id": re.search(r'name="bank_attempt_id" value="([^"]+)"', form).group(
                    1
                ),  # type: ignore[union-attr]
                "amount_minor": "400000",
                "currency": "GBP",
                "method": "bacs_debit",
                "account_holder_name": "Jane Harrison",
                "email": "jane@example.com",
                "sort_code": "10-88-00",
                "account_number": "00012345",
                "mandate_accepted": "1",
            },
        )
    assert sent.status_code == 303, sent.text
    assert sent.headers["location"].endswith(f"/invoices/{INVOICE_ID}/payments/{PAYMENT_ID}")
    (started,) = services[1].started
    debit = started.bank_debit
    assert started.payment_method_id == "" and started.amount.amount_minor == 400_000
    assert (debit.method, debit.sort_code, debit.account_number) == (
        "bacs_debit",
        "10-88-00",
        "00012345",
    )
    assert debit.mandate_accepted and "iPhone" in debit.user_agent


@needs_chromium
async def test_the_bank_debit_form_on_a_phone_and_a_desktop(settings, services):
    async with portal(settings, services) as client, in_chromium(client, PAY) as pages:
        for width, page in pages:
            mandate = page.locator("#mandate-bacs_debit")
            assert await mandate.is_visible()
            box = await mandate.bounding_box()
            assert box and box["width"] <= width  # no sideways scrolling on a phone
            SCREENSHOTS.mkdir(exist_ok=True)
            await page.screenshot(path=str(SCREENSHOTS / f"pay-bacs-{width}.png"), full_page=True)


async def test_the_console_turns_bacs_on_and_ach_off(settings, services):
    async with portal(settings, services, staff=True) as client:
        page = await client.get("/console/payments")
        assert page.status_code == 200, page.text
        assert "Bacs Direct Debit on pound sterling invoices" in page.text
        assert re.search(r'name="bacs_debit_enabled" value="1" checked', page.text)
        saved = await client.post(
            "/console/payments",
            data={
                "csrf_token": CSRF.search(page.text).group(1),  # type: ignore[union-attr]
                "minimum_payment": "500.00",
                "card_surcharge": "0",
                "bank_discount": "1",
                "region": "GB",
                "currency": "GBP",
                "bacs_debit_enabled": "1",
            },
        )
    assert saved.status_code == 303, saved.text
    (update,) = services[1].updated
    assert {"ach_debit_enabled", "bacs_debit_enabled"} <= set(update.update_mask.paths)
    assert update.settings.bacs_debit_enabled and not update.settings.ach_debit_enabled
