"""The board's payments with every process separate: the client signs the
proposal, payments issues the deposit; projects' copy of payments' events puts
it on the client's board as the next payment and as something waiting on
them, and notifications emails the approver the pay link. Staff record the
deposit as paid: the waiting item goes, the next payment moves on to the
installation, and the approver gets a receipt."""

from __future__ import annotations

import pytest

from tests.e2e.test_front_door import mails_to, newest_mail_id
from tests.e2e.test_projects_portal import build, staff
from tests.suite import Running, wait_for

pytestmark = pytest.mark.e2e


async def test_the_deposit_waits_on_the_board_until_paid_then_the_plan_moves_on(
    running: Running, gw, mail
):
    b = await build(running, gw, mail, "approver")
    client = b.browsers["approver"]
    approver = next(c for c in b.contacts if c["role"] == "approver")
    before = await newest_mail_id(mail)
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
    board_path = f"/api/v1/projects/{b.project['id']}/board"

    async def board_with_deposit():
        board = (await client.api("GET", board_path)).json()
        waiting = [w for w in board["waiting_on"] if w["kind"] == "invoice_to_pay"]
        return board if waiting and board["next_payment"] else None

    board = await wait_for(board_with_deposit, timeout=40)
    (item,) = [w for w in board["waiting_on"] if w["kind"] == "invoice_to_pay"]
    nxt = board["next_payment"]
    invoice_id = nxt["invoice_id"]
    assert nxt["label"] == "Deposit" and nxt["stage"] is None  # due on acceptance
    assert item["link"] == f"/invoices/{invoice_id}"
    assert item["title"].startswith(
        f"Invoice {nxt['invoice_number']}, {nxt['amount']['formatted']} due "
    )
    invoice = await staff(gw, running, "GET", f"/api/v1/invoices/{invoice_id}")
    assert nxt["amount"]["amount_minor"] == invoice["due"]["amount_minor"]

    async def invoice_mail():
        found = [
            m
            for m in await mails_to(mail, approver["email"], after=before)
            if m["subject"].startswith(f"Invoice {invoice['number']}:")
        ]
        return found

    (issued_mail,) = await wait_for(invoice_mail, timeout=30)
    assert f"/invoices/{invoice_id}" in issued_mail["text"]
    assert nxt["amount"]["formatted"] in issued_mail["text"]

    # The client's board page shows the same, from the same call.
    page = await client.client.get(f"/projects/{b.project['id']}")
    assert page.status_code == 200
    assert "Next payment: Deposit" in page.text and f'href="/invoices/{invoice_id}"' in page.text

    paid = await staff(
        gw,
        running,
        "POST",
        f"/api/v1/invoices/{invoice_id}/offline-payments",
        json={
            "method": "bank_transfer",
            "amount_minor": invoice["due"]["amount_minor"],
            "currency": invoice["due"]["currency"],
            "reference": "BACS 31337",
        },
    )
    assert paid["status"] == "paid"

    async def board_moved_on():
        # Two consumers (the invoice's events, the plan's): wait for both.
        board = (await client.api("GET", board_path)).json()
        nxt = board["next_payment"]
        waiting = [w for w in board["waiting_on"] if w["kind"] == "invoice_to_pay"]
        return board if nxt and nxt["label"] == "Installation" and not waiting else None

    board = await wait_for(board_moved_on, timeout=40)
    assert board["next_payment"]["stage"] == "install" and board["next_payment"]["invoice_id"] == ""

    async def receipt():
        return [
            m
            for m in await mails_to(mail, approver["email"], after=before)
            if m["subject"].startswith("Receipt: ")
        ]

    (receipt_mail,) = await wait_for(receipt, timeout=30)
    assert "is now paid in full" in receipt_mail["text"]
    await client.client.aclose()
