"""Invoice, receipt and statement PDFs through the gateway, every process
separate: the client signs, payments issues the deposit from projects' event
and files it in the project's documents; staff record a transfer and its
receipt is filed too. The client and staff fetch each PDF; another customer's
client gets a problem; the same events delivered again file nothing more."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, date, datetime, timedelta

import nats
import pytest
from portal.payments.v1 import events_pb2 as payments_events
from pypdf import PdfReader

import deploy.suite
from services.chassis.events import build_envelope, parse_envelope, subject_for
from tests.e2e.test_payments_portal import _sql
from tests.e2e.test_projects_portal import build, staff
from tests.suite import Running, wait_for

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        "documents" not in deploy.suite.SERVICES, reason="the suite has no documents service"
    ),
]
PROBLEM = "application/problem+json"


def text_of(pdf: bytes) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)


def assert_pdf(response, filename: str) -> str:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;") and f'filename="{filename}"' in disposition
    assert response.headers["cache-control"] == "private, no-store"
    return text_of(response.content)


async def redeliver(running: Running, payload, aggregate_type: str, aggregate_id: str) -> str:
    """The event again under a new id, as a replay would bring it: past the
    consumer's inbox, to the handler itself."""
    envelope = build_envelope(
        tenant_id=running.info["tenant_id"],
        aggregate_type=aggregate_type,
        aggregate_id=aggregate_id,
        payload=payload,
        occurred_at=datetime.now(UTC),
    )
    nc = await nats.connect(running.suite.nats.url)
    try:
        await nc.jetstream().publish(
            subject_for(type(payload)),
            envelope.SerializeToString(),
            headers={"Nats-Msg-Id": envelope.id},
        )
    finally:
        await nc.drain()
    return envelope.id


async def processed(running: Running, event_id: str) -> bool:
    rows = await _sql(
        running, "SELECT consumer FROM processed_event WHERE event_id = :e", e=uuid.UUID(event_id)
    )
    return bool(rows)


async def test_pdfs_for_client_and_staff_refused_to_another_and_filed_once(
    running: Running, gw, mail
):
    b = await build(running, gw, mail, "approver")
    theirs = await build(running, gw, mail, "approver")
    client, other = b.browsers["approver"], theirs.browsers["approver"]
    signed = await client.api(
        "POST",
        f"/api/v1/proposals/{b.sent['id']}/accept",
        {
            "signer_name": "Pat Approver",
            "consent": True,
            "content_sha256": b.sent["content_sha256"],
        },
    )
    assert signed.status_code == 200, signed.text
    pid = b.project["id"]

    async def deposit():
        page = await staff(gw, running, "GET", f"/api/v1/invoices?project_id={pid}")
        return page["invoices"]

    (invoice,) = await wait_for(deposit)
    number, iid = invoice["number"], invoice["id"]

    # The client and staff have the invoice, in the letterhead, with the client named.
    mine = assert_pdf(await client.get(f"/api/v1/invoices/{iid}/pdf"), f"{number}.pdf")
    assert f"Invoice {number}" in mine and invoice["total"]["formatted"] in mine
    assert b.project["reference"] in mine and iid not in mine
    r = await gw.get(f"/api/v1/invoices/{iid}/pdf", headers=running.headers())
    assert f"Invoice {number}" in assert_pdf(r, f"{number}.pdf")
    refused = await other.get(f"/api/v1/invoices/{iid}/pdf")
    assert refused.status_code == 404 and refused.headers["content-type"] == PROBLEM

    # Staff record part of it as a transfer: a receipt for the client.
    part = invoice["due"]["amount_minor"] // 2
    paid = await staff(
        gw,
        running,
        "POST",
        f"/api/v1/invoices/{iid}/offline-payments",
        json={
            "method": "bank_transfer",
            "amount_minor": part,
            "currency": invoice["total"]["currency"],
            "reference": "BACS 77120",
        },
    )
    (payment,) = paid["payments"]
    receipt = assert_pdf(
        await client.get(f"/api/v1/payments/{payment['id']}/receipt.pdf"),
        f"{number}-R1-receipt.pdf",
    )
    assert "Bank transfer" in receipt and "BACS 77120" in receipt
    assert paid["due"]["formatted"] in receipt  # what is left
    refused = await other.get(f"/api/v1/payments/{payment['id']}/receipt.pdf")
    assert refused.status_code == 404 and refused.headers["content-type"] == PROBLEM

    # A statement: the client's own by dates; staff name the customer.
    today = date.today()
    span = f"from={(today - timedelta(days=7)).isoformat()}&to={(today + timedelta(days=1))}"
    name = f"statement-{today - timedelta(days=7)}-to-{today + timedelta(days=1)}.pdf"
    statement = assert_pdf(await client.get(f"/api/v1/statement.pdf?{span}"), name)
    assert f"Invoice {number}" in statement and paid["due"]["formatted"] in statement
    r = await gw.get(
        f"/api/v1/statement.pdf?{span}&customer_id={b.customer_id}", headers=running.headers()
    )
    assert paid["due"]["formatted"] in assert_pdf(r, name)
    backwards = await client.get(f"/api/v1/statement.pdf?from={today}&to={today - timedelta(1)}")
    assert backwards.status_code == 422 and backwards.headers["content-type"] == PROBLEM
    assert "last day" in backwards.json()["detail"]
    leak = await other.get(f"/api/v1/statement.pdf?{span}&customer_id={b.customer_id}")
    assert leak.status_code == 404

    # Filed, client-visible, in the project's documents: the invoice and the receipt.
    # A receipt is titled by its number, amount and day (the day on the tenant's calendar).
    receipt_title = f"Receipt R1 for {number}: {payment['applied']['formatted']} on "

    def ours(title: str) -> bool:
        return title == f"Invoice {number}" or title.startswith(receipt_title)

    async def filed():
        r = await client.get(f"/api/v1/projects/{pid}/documents")
        docs = [d for d in r.json()["documents"] if ours(d["title"])]
        return docs if len(docs) == 2 else None

    first = await wait_for(filed, timeout=30)

    # The same events once more, past the inbox: documents keeps one of each.
    (issued,) = [
        e for e in await _events(running, payments_events.InvoiceIssued) if e.invoice_id == iid
    ]
    (succeeded,) = [
        e
        for e in await _events(running, payments_events.PaymentSucceeded)
        if e.payment_id == payment["id"]
    ]
    again = [
        await redeliver(running, issued, "invoice", iid),
        await redeliver(running, succeeded, "payment", payment["id"]),
    ]
    for event_id in again:
        await wait_for(lambda event_id=event_id: processed(running, event_id), timeout=30)
    r = await gw.get(f"/api/v1/projects/{pid}/documents", headers=running.headers())
    now = [d for d in r.json()["documents"] if ours(d["title"])]
    assert sorted(d["id"] for d in now) == sorted(d["id"] for d in first)
    assert all(d["current"]["number"] == 1 for d in now)
    for browser in (client, other):
        await browser.client.aclose()


async def _events(running: Running, payload_type) -> list:
    """Payments' outbox rows of this type in the demo tenant, as payloads."""
    rows = await _sql(
        running,
        "SELECT payload FROM outbox_message WHERE subject = :s",
        s=subject_for(payload_type),
    )
    out = []
    for raw in rows:
        payload = payload_type()
        assert parse_envelope(bytes(raw)).payload.Unpack(payload)
        out.append(payload)
    return out
