"""Invoices and pay-now with every process separate: the client signs the
proposal, payments issues the deposit from projects' event; the client pays
part of it by card (a PaymentMethod made on localstripe as Stripe.js would),
localstripe's signed webhook reaches the gateway; staff record the rest as a
bank transfer and the invoice is paid. Bad amounts, another customer, a
forged webhook: clear problems, nothing moves."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
import uuid

import httpx
import pytest

from deploy.seed_payments import MINIMUM_PART_PAYMENT_MINOR
from tests.e2e.test_projects_portal import build, staff
from tests.suite import Running, wait_for

pytestmark = pytest.mark.e2e
PROBLEM = "application/problem+json"


async def test_card_part_then_transfer_pays_the_deposit(running: Running, gw, mail):
    b = await build(running, gw, mail, "approver")
    client = b.browsers["approver"]
    sha = b.sent["content_sha256"]
    signed = await client.api(
        "POST",
        f"/api/v1/proposals/{b.sent['id']}/accept",
        {"signer_name": "Pat Approver", "consent": True, "content_sha256": sha},
    )
    assert signed.status_code == 200, signed.text
    total = signed.json()["total"]["amount_minor"]

    async def deposit():
        page = await staff(gw, running, "GET", f"/api/v1/invoices?project_id={b.project['id']}")
        return page["invoices"]

    (invoice,) = await wait_for(deposit)
    assert invoice["milestone"] == "acceptance" and invoice["status"] == "open"
    assert invoice["total"]["amount_minor"] == (total * 5_000 + 5_000) // 10_000
    mine = await client.api("GET", f"/api/v1/invoices/{invoice['id']}")
    assert mine.status_code == 200 and mine.json()["number"] == invoice["number"]

    currency = invoice["total"]["currency"]
    pm = await _test_card(running)
    pay = f"/api/v1/invoices/{invoice['id']}/payments"
    too_much = await client.api(
        "POST",
        pay,
        {
            "amount_minor": invoice["total"]["amount_minor"] + 1,
            "currency": currency,
            "payment_method_id": pm,
        },
    )
    assert too_much.status_code == 422 and too_much.headers["content-type"] == PROBLEM
    assert "at most" in too_much.json()["detail"]
    huge = await client.api(
        "POST", pay, {"amount_minor": 2**63, "currency": currency, "payment_method_id": pm}
    )
    assert huge.status_code == 422, huge.text

    part = MINIMUM_PART_PAYMENT_MINOR  # the demo integrator's smallest part payment
    headers = {"X-CSRF-Token": await client.csrf(), "Idempotency-Key": f"attempt-{b.tag}-1"}
    body = {"amount_minor": part, "currency": currency, "payment_method_id": pm}
    first = await client.client.post(pay, json=body, headers=headers)
    again = await client.client.post(pay, json=body, headers=headers)  # the double click
    assert first.status_code == 200, first.text
    assert again.json()["payment"]["id"] == first.json()["payment"]["id"]
    assert first.json()["payment"]["status"] == "succeeded"

    shown = (await client.api("GET", f"/api/v1/invoices/{invoice['id']}")).json()
    assert shown["status"] == "partially_paid" and shown["paid"]["amount_minor"] == part

    # localstripe's own signed webhook for that payment reaches us and changes nothing more.
    async def delivered():
        rows = await _sql(running, "SELECT type FROM stripe_event")
        return [r for r in rows if r == "payment_intent.succeeded"]

    await wait_for(delivered, timeout=30)
    rest = shown["due"]["amount_minor"]
    paid = await staff(
        gw,
        running,
        "POST",
        f"/api/v1/invoices/{invoice['id']}/offline-payments",
        json={
            "method": "bank_transfer",
            "amount_minor": rest,
            "currency": currency,
            "reference": "BACS 99812",
        },
    )
    assert paid["status"] == "paid" and paid["due"]["amount_minor"] == 0
    assert paid["paid"]["amount_minor"] == paid["total"]["amount_minor"]
    await client.client.aclose()


async def test_another_customer_sees_and_pays_nothing_of_mine(running: Running, gw, mail):
    mine = await build(running, gw, mail, "approver")
    theirs = await build(running, gw, mail, "approver")
    client = mine.browsers["approver"]
    await client.api(
        "POST",
        f"/api/v1/proposals/{mine.sent['id']}/accept",
        {"signer_name": "Pat", "consent": True, "content_sha256": mine.sent["content_sha256"]},
    )

    async def deposit():
        page = await staff(gw, running, "GET", f"/api/v1/invoices?project_id={mine.project['id']}")
        return page["invoices"]

    (invoice,) = await wait_for(deposit)
    other = theirs.browsers["approver"]
    assert (await other.api("GET", f"/api/v1/invoices/{invoice['id']}")).status_code == 404
    listed = (await other.api("GET", "/api/v1/invoices")).json()["invoices"]
    assert invoice["id"] not in [i["id"] for i in listed]
    paid = await other.api(
        "POST",
        f"/api/v1/invoices/{invoice['id']}/payments",
        {"amount_minor": 100, "currency": "USD", "payment_method_id": await _test_card(running)},
    )
    assert paid.status_code == 404 and paid.headers["content-type"] == PROBLEM
    for browser in (client, other):
        await browser.client.aclose()


async def test_a_forged_or_oversized_webhook_is_refused(running: Running, gw):
    event = {
        "id": f"evt_{uuid.uuid4().hex}",
        "type": "payment_intent.succeeded",
        "created": int(time.time()),
        "data": {"object": {"id": "pi_x", "metadata": {}}},
    }
    payload = json.dumps(event).encode()
    t = int(time.time())
    forged = hmac.new(b"whsec_wrong", f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    r = await gw.post(
        "/api/v1/stripe/webhook",
        content=payload,
        headers={"Stripe-Signature": f"t={t},v1={forged}", "Content-Type": "application/json"},
    )
    assert r.status_code == 401 and r.headers["content-type"] == PROBLEM

    def send_big() -> httpx.Response:  # blocking: the 413 comes before the body is sent
        with httpx.Client(base_url=running.suite.gateway_url, timeout=30, trust_env=False) as c:
            return c.post(
                "/api/v1/stripe/webhook",
                content=b"x" * (600 * 1024),
                headers={"Stripe-Signature": "t=1,v1=0", "Content-Type": "application/json"},
            )

    big = await asyncio.to_thread(send_big)
    assert big.status_code == 413
    rows = await _sql(running, "SELECT id FROM stripe_event WHERE id = :i", i=event["id"])
    assert rows == []


async def _test_card(running: Running) -> str:
    """A card PaymentMethod on localstripe, as Stripe.js makes one in the page."""
    async with httpx.AsyncClient(base_url=running.suite.stripe_url, trust_env=False) as stripe:
        r = await stripe.post(
            "/v1/payment_methods",
            data={
                "type": "card",
                "card[number]": "4242424242424242",
                "card[exp_month]": "12",
                "card[exp_year]": "2030",
                "card[cvc]": "123",
            },
            headers={"Authorization": "Bearer sk_test_portal_localstripe"},
        )
    assert r.status_code == 200, r.text
    return r.json()["id"]


async def _sql(running: Running, statement: str, **params) -> list:
    """Payments' own database, as its role sees it across tenants (no RLS bypass:
    stripe_event rows are read in the demo tenant)."""
    from sqlalchemy import text

    from services.chassis.db import UnitOfWork, make_engine, make_sessionmaker

    engine = make_engine(running.suite.database_urls["payments"], pool_size=1)
    try:
        async with UnitOfWork(make_sessionmaker(engine), running.info["tenant_id"]) as uow:
            rows = (await uow.session.execute(text(statement), params)).scalars().all()
        return list(rows)
    finally:
        await engine.dispose()
