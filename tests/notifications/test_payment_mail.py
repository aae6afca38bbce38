"""Payments' events as email: whom each tells, what it says (amounts as the
portal writes them), and once per event however often it is delivered. The
real handler on a migrated database, a stand-in identity, the real mailer
and SMTP sink."""

from __future__ import annotations

import uuid
from typing import Any

from portal.common.v1 import common_pb2
from portal.identity.v1 import identity_pb2 as ipb
from portal.payments.v1 import events_pb2 as pay
from portal.payments.v1 import payments_pb2

from services.chassis.db import UnitOfWork
from services.chassis.events import Event, subject_for
from services.notifications import handlers
from services.notifications.service import events as mail_events
from tests.notifications.conftest import T0, Mailer

PROJECT, CUSTOMER, INVOICE = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
PORTAL = "http://acme.localhost:8000"


class Identity:
    """What notifications asks identity, as identity would answer."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    async def tenant(self, tenant_id: str) -> ipb.Tenant:
        return ipb.Tenant(id=tenant_id, slug="acme", display_name="Acme AV", time_zone="Asia/Tokyo")

    async def customer(self, tenant_id: str, customer_id: str) -> ipb.Customer:
        self.asked.append(customer_id)
        return ipb.Customer(
            id=customer_id,
            name="The Tanakas",
            contacts=[
                ipb.Contact(
                    id="c1",
                    email="yui@example.com",
                    full_name="Yui Tanaka",
                    role=ipb.CONTACT_ROLE_APPROVER,
                ),
                ipb.Contact(
                    id="c2",
                    email="ken@example.com",
                    full_name="Ken Tanaka",
                    role=ipb.CONTACT_ROLE_VIEWER,
                ),
            ],
        )

    async def staff_users(self, tenant_id: str) -> list[ipb.StaffUser]:
        return [
            ipb.StaffUser(
                id="s1",
                email="owner@acme.test",
                full_name="Olive Owner",
                roles=[ipb.STAFF_ROLE_OWNER],
            ),
            ipb.StaffUser(
                id="s2",
                email="fin@acme.test",
                full_name="Finn Ance",
                roles=[ipb.STAFF_ROLE_FINANCE],
            ),
            ipb.StaffUser(
                id="s3",
                email="tech@acme.test",
                full_name="Tess Tech",
                roles=[ipb.STAFF_ROLE_TECHNICIAN],
            ),
        ]


def jpy(minor: int) -> common_pb2.Money:
    return common_pb2.Money(currency="JPY", amount_minor=minor)


def standing(status: str, due: int) -> payments_pb2.InvoiceStanding:
    return payments_pb2.InvoiceStanding(
        invoice_id=INVOICE,
        number="INV-1001",
        status=status,
        total=jpy(1_250_000),
        due=jpy(due),
        due_on="2026-12-12",
        milestone_label="Deposit",
        project_name="Tanaka residence",
    )


async def deliver(mailer: Mailer, payload: Any, event_id: str | None = None) -> Identity:
    identity = Identity()
    (sub,) = [
        s
        for s in handlers.subscriptions(
            identity=identity, portal_url_template="http://{slug}.localhost:8000"
        )  # type: ignore[arg-type]
        if s.payload_type is type(payload)
    ]
    event = Event(
        id=event_id or str(uuid.uuid4()),
        type=subject_for(type(payload)),
        tenant_id=mailer.tenant_id,
        occurred_at=T0,
        aggregate_type="invoice",
        aggregate_id=INVOICE,
        payload=payload,
    )
    async with UnitOfWork(mailer.sessions, mailer.tenant_id) as uow:
        await sub.handler(uow, event)
        await uow.commit()
    return identity


def issued() -> pay.InvoiceIssued:
    return pay.InvoiceIssued(
        invoice_id=INVOICE,
        number="INV-1001",
        project_id=PROJECT,
        customer_id=CUSTOMER,
        total=jpy(1_250_000),
        due=jpy(1_250_000),
        due_on="2026-12-12",
        milestone="acceptance",
        project_name="Tanaka residence",
        standing=standing("open", 1_250_000),
    )


async def test_an_issued_invoice_goes_to_the_approvers_once_with_the_pay_link(mailer: Mailer):
    event_id = str(uuid.uuid4())
    for _ in range(3):  # delivered again: the same event
        await deliver(mailer, issued(), event_id=event_id)
    assert await mailer.send_due() == 1
    (mail,) = mailer.sink.messages
    assert mail["rcpt_tos"] == ["yui@example.com"]  # the approver, not the viewer
    assert mail["subject"] == "Invoice INV-1001: ¥1,250,000 due by 12 Dec 2026"
    text = mail["text"]
    assert "Your invoice INV-1001 for Tanaka residence is ready: the deposit payment, " in text
    assert "¥1,250,000 to pay by 12 Dec 2026." in text
    assert f"View and pay the invoice: {PORTAL}/invoices/{INVOICE}" in text
    assert "¥1,250,000.00" not in text  # yen have no minor digits, as on the portal


async def test_a_payment_sends_a_receipt_to_the_client_and_a_notice_to_finance(mailer: Mailer):
    succeeded = pay.PaymentSucceeded(
        payment_id=str(uuid.uuid4()),
        invoice_id=INVOICE,
        project_id=PROJECT,
        customer_id=CUSTOMER,
        amount=jpy(250_000),
        charged=jpy(250_000),
        method="card",
        invoice_number="INV-1001",
        invoice_due=jpy(1_000_000),
        standing=standing("partially_paid", 1_000_000),
    )
    event_id = str(uuid.uuid4())
    await deliver(mailer, succeeded, event_id=event_id)
    await deliver(mailer, succeeded, event_id=event_id)
    assert await mailer.send_due() == 4
    by_to = {m["rcpt_tos"][0]: m for m in mailer.sink.messages}
    assert set(by_to) == {"yui@example.com", "ken@example.com", "owner@acme.test", "fin@acme.test"}
    receipt = by_to["ken@example.com"]
    assert receipt["subject"] == "Receipt: ¥250,000 paid on invoice INV-1001"
    assert (
        "we received ¥250,000 by card for invoice INV-1001 for Tanaka residence." in receipt["text"]
    )
    assert "¥1,000,000 is left to pay on this invoice." in receipt["text"]
    notice = by_to["fin@acme.test"]
    assert notice["subject"] == "Payment received: ¥250,000 on INV-1001"
    assert f"{PORTAL}/console/projects/{PROJECT}" in notice["text"]


async def test_a_failed_payment_tells_the_approvers_why_with_the_link_to_try_again(
    mailer: Mailer,
):
    failed = pay.PaymentFailed(
        payment_id=str(uuid.uuid4()),
        invoice_id=INVOICE,
        project_id=PROJECT,
        customer_id=CUSTOMER,
        amount=jpy(1_250_000),
        method="card",
        failure_message="Your card has insufficient funds.",
        standing=standing("open", 1_250_000),
    )
    await deliver(mailer, failed)
    assert await mailer.send_due() == 1
    (mail,) = mailer.sink.messages
    assert mail["rcpt_tos"] == ["yui@example.com"]
    assert mail["subject"] == "Your payment on invoice INV-1001 did not go through"
    assert "Why: Your card has insufficient funds." in mail["text"]
    assert f"Try again: {PORTAL}/invoices/{INVOICE}" in mail["text"]


async def test_a_debit_awaiting_verification_tells_the_approvers_where_and_by_when(
    mailer: Mailer,
):
    url = "https://payments.stripe.com/microdeposit/pacs_test_123"
    waiting = pay.PaymentVerificationRequired(
        payment_id=str(uuid.uuid4()),
        invoice_id=INVOICE,
        project_id=PROJECT,
        customer_id=CUSTOMER,
        amount=jpy(1_250_000),
        method="us_bank_account",
        account_last4="6789",
        verification_url=url,
        arrive_on="2026-12-04",
        microdeposit_type="descriptor_code",
        standing=standing("open", 1_250_000),
    )
    event_id = str(uuid.uuid4())
    await deliver(mailer, waiting, event_id=event_id)
    await deliver(mailer, waiting, event_id=event_id)  # redelivered: one email
    assert await mailer.send_due() == 1
    (mail,) = mailer.sink.messages
    assert mail["rcpt_tos"] == ["yui@example.com"]
    assert mail["subject"] == "Verify your bank account to pay invoice INV-1001"
    text = " ".join(mail["text"].split())
    assert "small deposit to account ••6789 by 4 Dec 2026" in text
    assert "Nothing is taken from your account until you do." in text
    assert f"Verify your bank account: {url}" in text


def test_every_payment_mailing_is_subscribed():
    subscribed = {
        s.payload_type for s in handlers.subscriptions(identity=Identity(), portal_url_template="")
    }  # type: ignore[arg-type]
    assert {pay.InvoiceIssued, pay.PaymentSucceeded, pay.PaymentFailed} <= subscribed
    assert set(mail_events.MAILINGS) <= subscribed
