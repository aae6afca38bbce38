"""The demo project's money: the payment plan's deposit paid, the install
invoice open for the client to pay part of, a minimum part payment, and
(where localstripe runs) the publishable key the pay page needs.

Payments issues the milestone invoices itself, from projects' events (the
proposal accepted: the deposit; the install stage reached: the install
invoice), so the seed waits for each instead of creating invoices of its
own. The deposit is paid the way a client pays: a card PaymentMethod made on
localstripe (as Stripe.js makes one in the page), then StartPayment as the
demo client; localstripe's signed webhook follows and changes nothing more.
Without localstripe (it is optional) the deposit is recorded as an offline
payment whose reference says exactly that.

When the local accounting sandbox runs (deploy/books_sandbox.py), the demo
integrator connects QuickBooks Online to it before the deposit is paid, the
way staff do from the console: StartAccountingConnection, the sandbox's
authorize page (it approves at once and redirects back with a code), then
CompleteAccountingConnection with that code, state and realm. Every record
from then on (the customer, both invoices, the deposit's payment) is posted
once by the accounting-sync job.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import parse_qs, urlsplit

import grpc
import httpx
from google.protobuf.field_mask_pb2 import FieldMask
from portal.common.v1 import common_pb2
from portal.payments.v1 import payments_pb2 as pay

from services.chassis.auth import Principal
from services.chassis.grpc_client import Caller

# The smallest part payment the demo integrator accepts: $500.00.
MINIMUM_PART_PAYMENT_MINOR = 50_000
# The demo integrator's publishable key on localstripe (the browser tests' too).
LOCALSTRIPE_PUBLISHABLE_KEY = "pk_test_portal"
OFFLINE_REFERENCE = "DEMO SEED: recorded offline (no Stripe stand-in was running)"
NS = uuid.UUID("0d3f7a52-6c1e-4b8a-9f0e-3f2d5c6b7a81")
DEPOSIT, INSTALL = "acceptance", "install"
T = TypeVar("T")


def rid(name: str) -> str:
    return str(uuid.uuid5(NS, name))


@dataclass(frozen=True)
class DemoMoney:
    deposit: pay.Invoice
    install: pay.Invoice
    paid_by: str  # "card" (localstripe) or "offline"


async def wait_for_milestone(
    *, call: Caller, payments, staff: Principal, project_id: str, milestone: str
) -> pay.Invoice:
    """The milestone invoice payments issues from projects' event (seconds)."""

    async def issued() -> pay.Invoice | None:
        page = await call(
            payments.ListInvoices, pay.ListInvoicesRequest(project_id=project_id), staff
        )
        return next((i for i in page.invoices if i.milestone == milestone and i.number), None)

    return await _poll(issued, what=f"the {milestone} invoice")


async def set_pay_settings(*, call: Caller, payments, owner: Principal, with_stripe: bool) -> None:
    """The minimum part payment, and where localstripe runs a publishable key:
    without one the pay page says "paying online is not set up yet" and the
    demo client could not pay by card (localstripe takes any pk_test_ key)."""
    settings = pay.PaymentSettings(minimum_payment_minor=MINIMUM_PART_PAYMENT_MINOR)
    paths = ["minimum_payment_minor"]
    if with_stripe:
        settings.publishable_key = LOCALSTRIPE_PUBLISHABLE_KEY
        paths.append("publishable_key")
    await call(
        payments.UpdatePaymentSettings,
        pay.UpdatePaymentSettingsRequest(settings=settings, update_mask=FieldMask(paths=paths)),
        owner,
    )


async def connect_books(
    *, call: Caller, payments, owner: Principal, redirect_uri: str
) -> pay.AccountingConnection:
    """QuickBooks Online on the local sandbox, through the real OAuth2 path.
    Again on every run: the sandbox keeps its company in memory, so a restart
    needs fresh tokens (records already posted stay posted)."""
    started = await call(
        payments.StartAccountingConnection,
        pay.StartAccountingConnectionRequest(provider="quickbooks", redirect_uri=redirect_uri),
        owner,
    )
    async with httpx.AsyncClient(timeout=15, trust_env=False) as client:
        answer = await client.get(started.authorize_url, follow_redirects=False)
    if answer.status_code != 302:
        raise RuntimeError(f"seed: the books sandbox answered {answer.status_code} to authorize")
    back = {k: v[0] for k, v in parse_qs(urlsplit(answer.headers["location"]).query).items()}
    done = await call(
        payments.CompleteAccountingConnection,
        pay.CompleteAccountingConnectionRequest(
            state=back["state"], code=back["code"], realm_id=back["realmId"]
        ),
        owner,
    )
    return done.connection


async def pay_deposit(
    *,
    call: Caller,
    payments,
    staff: Principal,
    approver: Principal,
    deposit: pay.Invoice,
    stripe_url: str | None,
    stripe_key: str,
) -> tuple[pay.Invoice, str]:
    """The whole deposit, once (fixed attempt / request ids), by card when
    localstripe runs. Answers the invoice as it stands and how it was paid."""
    due = deposit.due
    if deposit.status == pay.INVOICE_STATUS_PAID:
        how = "card" if any(p.method == "card" for p in deposit.payments) else "offline"
        return deposit, how
    if stripe_url:
        method = await _test_card(stripe_url, stripe_key)
        await call(
            payments.StartPayment,
            pay.StartPaymentRequest(
                invoice_id=deposit.id,
                attempt_id=rid(f"deposit-{deposit.id}"),
                amount=common_pb2.Money(amount_minor=due.amount_minor, currency=due.currency),
                payment_method_id=method,
            ),
            approver,
        )
        how = "card"
    else:
        await call(
            payments.RecordOfflinePayment,
            pay.RecordOfflinePaymentRequest(
                request_id=rid(f"deposit-offline-{deposit.id}"),
                invoice_id=deposit.id,
                method="other",
                amount=common_pb2.Money(amount_minor=due.amount_minor, currency=due.currency),
                reference=OFFLINE_REFERENCE,
            ),
            staff,
        )
        how = "offline"
    shown = await call(payments.GetInvoice, pay.GetInvoiceRequest(invoice_id=deposit.id), staff)
    return shown.invoice, how


async def _test_card(stripe_url: str, stripe_key: str) -> str:
    """Visa 4242 on localstripe, as Stripe.js would create it in the pay page."""
    async with httpx.AsyncClient(base_url=stripe_url, timeout=15, trust_env=False) as stripe:
        answer = await stripe.post(
            "/v1/payment_methods",
            data={
                "type": "card",
                "card[number]": "4242424242424242",
                "card[exp_month]": "12",
                "card[exp_year]": str(time.gmtime().tm_year + 3),
                "card[cvc]": "123",
            },
            headers={"Authorization": f"Bearer {stripe_key}"},
        )
    answer.raise_for_status()
    return str(answer.json()["id"])


async def _poll(fetch: Callable[[], Awaitable[T | None]], *, what: str, seconds: float = 60) -> T:
    deadline = time.monotonic() + seconds
    while True:
        try:
            found = await fetch()
        except grpc.aio.AioRpcError as exc:
            if exc.code() not in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.NOT_FOUND):
                raise
            found = None
        if found is not None:
            return found
        if time.monotonic() > deadline:
            raise TimeoutError(f"seed: {what} did not appear within {seconds:.0f} s")
        await asyncio.sleep(0.2)
