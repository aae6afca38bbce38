"""An ACH debit on an account typed by hand waits for Stripe's micro-deposit
verification: through the gateway against a payments fake answering as
payments does (tests/payments/test_microdeposits.py is payments' side). The
client's invoice and payment pages say it plainly with Stripe's link and do
not offer the amount again; the client may cancel it (CancelPayment) and pay
by card; staff see the state on the console's invoice page. The invoice page
is shot in headless Chromium at 390 and 1280 px (tests/screenshots/ach-verify-*)."""

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

from gateway.api.payments.shapes import invoice_out
from gateway.pages import invoice_views as views
from gateway.pages.rendering import decode_flash
from gateway.settings import GatewaySettings
from services.chassis.auth import Principal, current_principal
from services.chassis.errors import InvalidTransition
from tests.browser.conftest import needs_chromium
from tests.gateway import identity_fakes as I
from tests.gateway.chromium_pages import in_chromium
from tests.gateway.payments_portal import Services, serving, signed_in

INVOICE_ID = str(uuid.uuid4())
PAYMENT_ID = str(uuid.uuid4())
VERIFY_URL = "https://payments.stripe.com/microdeposit/pacs_test_abc123"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
SCREENSHOTS = Path(__file__).resolve().parent.parent / "screenshots"


def usd(minor: int) -> common_pb2.Money:
    return common_pb2.Money(currency="USD", amount_minor=minor)


class FakePayments(payments_pb2_grpc.PaymentsServiceServicer):
    """One $2,500 deposit whose whole amount is an ACH debit awaiting verification."""

    def __init__(self) -> None:
        self.canceled: list[pb.CancelPaymentRequest] = []
        self.refuse_cancel = ""

    def _payment(self, *, for_client: bool) -> pb.Payment:
        return pb.Payment(
            id=PAYMENT_ID,
            invoice_id=INVOICE_ID,
            status=pb.PAYMENT_STATUS_AWAITING_VERIFICATION,
            method="us_bank_account",
            applied=usd(250_000),
            charged=usd(250_000),
            card_last4="6789",
            verification_url=VERIFY_URL if for_client else "",  # as payments answers
            microdeposits_arrive_on="2026-12-04",
            microdeposit_type="descriptor_code",
            verification_attempts=10,  # payments' figure for a code
        )

    async def GetInvoice(self, request, context):
        for_client = current_principal().is_client
        return pb.GetInvoiceResponse(invoice=self._invoice(for_client=for_client))

    def _invoice(self, *, for_client: bool) -> pb.Invoice:
        return pb.Invoice(
            id=INVOICE_ID,
            number="INV-1003",
            project_id=str(uuid.uuid4()),
            customer_id=I.CUSTOMER_ID,
            status=pb.INVOICE_STATUS_OPEN,
            total=usd(250_000),
            paid=usd(0),
            due=usd(250_000),
            processing=usd(0),
            payable=usd(0),  # held by the debit awaiting verification
            verifying=usd(250_000),
            awaiting_verification=True,  # payments' flag: the pages render it
            issued_on="2026-12-01",
            due_on="2026-12-15",
            project_name="Media room",
            bank_debits=["us_bank_account"],
            payments=[self._payment(for_client=for_client)],
        )

    async def GetPaymentSettings(self, request, context):
        return pb.GetPaymentSettingsResponse(
            settings=pb.PaymentSettings(
                publishable_key="pk_test_portal",
                stripe_account_id="acct_demo",
                minimum_payment_minor=50_000,
                currency="USD",
                region="US",
                ach_debit_enabled=True,
            )
        )

    async def CancelPayment(self, request, context):
        self.canceled.append(request)
        if self.refuse_cancel:
            raise InvalidTransition(self.refuse_cancel, field="payment")
        invoice = self._invoice(for_client=True)
        invoice.payments[0].status = pb.PAYMENT_STATUS_CANCELED
        invoice.payable.CopyFrom(usd(250_000))
        invoice.verifying.CopyFrom(usd(0))
        invoice.awaiting_verification = False
        return pb.CancelPaymentResponse(invoice=invoice)


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
        yield c


def plain(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


async def test_the_invoice_says_verify_your_account_and_offers_no_second_debit(settings, services):
    async with portal(settings, services) as client:
        page = await client.get(f"/invoices/{INVOICE_ID}")
        pay = await client.get(f"/invoices/{INVOICE_ID}/pay")
    assert page.status_code == 200, page.text
    text = plain(page.text)
    assert "Stripe will send a small deposit to account ••6789 by 4 Dec 2026." in text
    assert "Verify your bank account to pay $2,500.00." in text
    assert f'href="{VERIFY_URL}"' in page.text and "Verify it here" in text
    assert f'action="/invoices/{INVOICE_ID}/payments/{PAYMENT_ID}/cancel"' in page.text
    assert "Waiting for bank verification" in text  # the badge: not paid, not processing
    assert "Pay now" not in text and f'href="/invoices/{INVOICE_ID}/pay"' not in page.text
    assert pay.status_code == 303 and pay.headers["location"].endswith(f"/invoices/{INVOICE_ID}")


async def test_the_payment_page_says_what_to_do_and_where(settings, services):
    async with portal(settings, services) as client:
        page = await client.get(f"/invoices/{INVOICE_ID}/payments/{PAYMENT_ID}")
    assert page.status_code == 200, page.text
    text = plain(page.text)
    assert "Verify your bank account" in text and "Enter the 6-character code" in text
    assert "by 4 Dec 2026" in text and f'href="{VERIFY_URL}"' in page.text
    assert "Nothing is taken from your account until you do." in text


async def test_cancelling_it_cancels_the_intent_and_leads_to_paying_by_card(settings, services):
    async with portal(settings, services) as client:
        page = await client.get(f"/invoices/{INVOICE_ID}")
        token = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
        done = await client.post(
            f"/invoices/{INVOICE_ID}/payments/{PAYMENT_ID}/cancel", data={"csrf_token": token}
        )
        forged = await client.post(f"/invoices/{INVOICE_ID}/payments/{PAYMENT_ID}/cancel")
    assert done.status_code == 303, done.text
    assert done.headers["location"].endswith(f"/invoices/{INVOICE_ID}/pay")
    (asked,) = services[1].canceled  # the one without its CSRF token never reached payments
    assert (asked.invoice_id, asked.payment_id) == (INVOICE_ID, PAYMENT_ID)
    assert forged.status_code in (400, 403)


async def test_the_json_api_cancels_it_and_shows_the_state(settings, services):
    async with portal(settings, services) as client:
        shown = (await client.get(f"/api/v1/invoices/{INVOICE_ID}")).json()
        token = (await client.get("/api/v1/me")).json()["csrf_token"]
        url = f"/api/v1/invoices/{INVOICE_ID}/payments/{PAYMENT_ID}/cancel"
        r = await client.post(url, headers={"X-CSRF-Token": token})
    (payment,) = shown["payments"]
    assert payment["status"] == "awaiting_verification"
    assert payment["verification_url"] == VERIFY_URL
    assert payment["microdeposits_arrive_on"] == "2026-12-04"
    assert r.status_code == 200, r.text
    assert r.json()["payments"][0]["status"] == "canceled"
    assert r.json()["payable"]["amount_minor"] == 250_000
    assert len(services[1].canceled) == 1


async def test_a_refused_cancel_is_said_in_payments_words(settings, services):
    services[1].refuse_cancel = "this debit was verified and is on its way"
    async with portal(settings, services) as client:
        page = await client.get(f"/invoices/{INVOICE_ID}")
        token = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
        done = await client.post(
            f"/invoices/{INVOICE_ID}/payments/{PAYMENT_ID}/cancel", data={"csrf_token": token}
        )
    assert done.status_code == 303 and done.headers["location"].endswith(f"/invoices/{INVOICE_ID}")
    cookie = re.search(r"portal_flash=([^;]+)", done.headers["set-cookie"])
    flash = decode_flash(settings, cookie.group(1).strip('"') if cookie else None)
    assert flash is not None and flash.kind == "error"
    assert flash.message == "This debit was verified and is on its way."


async def test_staff_see_the_state_on_the_console_invoice(settings, services):
    async with portal(settings, services, staff=True) as client:
        page = await client.get(f"/console/invoices/{INVOICE_ID}")
    assert page.status_code == 200, page.text
    text = plain(page.text)
    assert "Awaiting bank verification" in text  # the payment's state
    assert "Stripe will send a small deposit to account ••6789 by 4 Dec 2026." in text
    assert "The client verifies it on Stripe's page" in text
    assert "/cancel" not in page.text  # the client's to cancel, not staff's


@needs_chromium
async def test_the_verification_box_on_a_phone_and_a_desktop(settings, services):
    shown = f"/invoices/{INVOICE_ID}"
    async with portal(settings, services) as client, in_chromium(client, shown) as pages:
        for width, page in pages:
            box = page.locator(f"#verify-{PAYMENT_ID}")
            assert await box.is_visible()
            bounds = await box.bounding_box()
            assert bounds and bounds["x"] + bounds["width"] <= width  # no sideways scroll
            link = page.get_by_role("link", name="Verify it here")
            assert await link.is_visible()
            SCREENSHOTS.mkdir(exist_ok=True)
            await page.screenshot(path=str(SCREENSHOTS / f"ach-verify-{width}.png"), full_page=True)


def test_the_pages_words_for_a_debit_awaiting_verification():
    fake = FakePayments()
    waiting = invoice_out(fake._invoice(for_client=True))
    approver = Principal(
        kind="client",
        subject="c",
        tenant_id=str(uuid.uuid4()),
        roles=frozenset({"approver"}),
        customer_id=I.CUSTOMER_ID,
    )
    assert views.pay_state(waiting, approver, viewing_as_client=False, settings=None) == (
        "verifying"
    )
    assert views.status_words(waiting) == "Waiting for bank verification"
    listed = waiting.model_copy(update={"payments": []})  # ListInvoices carries no payments
    assert views.status_words(listed) == "Waiting for bank verification"
    # The badge is payments' flag, never guessed from the sums: the same sums
    # without it (payments says nothing awaits verification) read "Due".
    unflagged = listed.model_copy(update={"awaiting_verification": False})
    assert views.status_words(unflagged) == "Due"
    (payment,) = views.awaiting_verification(waiting)
    assert views.payment_words(payment) == "Awaiting bank verification"
    no_date = payment.model_copy(update={"microdeposits_arrive_on": None, "card_last4": ""})
    assert views.verification_words(no_date) == (
        "Stripe will send a small deposit to your bank account within 1-2 business days."
    )
    # What to enter, as Stripe describes its deposits, with payments' number of tries.
    assert views.verification_how(payment) == (
        "Enter the 6-character code (it starts with SM) from the deposit's description"
        " on Stripe's page to finish paying. You have 10 tries."
    )
    amounts = payment.model_copy(
        update={"microdeposit_type": "amounts", "verification_attempts": 3}
    )
    assert views.verification_words(amounts) == (
        "Stripe will send two small deposits to account ••6789 by 4 Dec 2026."
    )
    assert views.verification_how(amounts) == (
        "Enter the two amounts (marked ACCTVERIFY on your statement) on Stripe's page to"
        " finish paying. You have 3 tries."
    )
    part = invoice_out(fake._invoice(for_client=True))
    part = part.model_copy(update={"payable": part.total})  # the rest still payable by card
    assert views.pay_state(part, approver, viewing_as_client=False, settings=None) == "not_set_up"
