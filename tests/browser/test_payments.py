"""Invoices and pay-now in a real browser, on a phone and on a desktop, against
the whole suite: the client signs the proposal and is taken to the deposit
(issued by payments from projects' event); pays part of it with a test card
typed into localstripe's Stripe.js stand-in (a real PaymentIntent on
localstripe, its signed webhook through the gateway) and sees it partly paid;
a double click and a resubmitted form make one PaymentIntent; staff record a
bank transfer and refund part of the card payment in the console; an
archived customer sees the invoice but no pay button, and why.

Screenshots: tests/screenshots/pay-*, invoice-*, invoices-*, receipt-*,
console-invoice*, console-payments-*."""

from __future__ import annotations

import asyncio
import re
import threading

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import PASSWORD, Suite, shot

pytestmark = [pytest.mark.browser, pytest.mark.e2e]
STRIPE_KEY = "sk_test_portal_localstripe"  # the suite's payments key on localstripe


def _ok(response) -> dict:
    assert response.is_success, response.text
    return response.json() if response.content else {}


def _fits(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


def _signed_proposal_project(suite: Suite, page: Page) -> dict:
    """A client (approver) with a sent proposal, signed in this browser; the
    portal takes payments with a publishable key and a $500.00 minimum (the
    demo seed's: the e2e tests that run later rely on it)."""
    api = suite.api
    _ok(
        api.patch(
            "/api/v1/payment-settings",
            json={"publishable_key": "pk_test_portal", "minimum_payment_minor": 50_000},
        )
    )
    customer_id, _, link = suite.invited_contact("approver")
    project = _ok(
        api.post(
            "/api/v1/projects",
            json={"name": "Media room", "customer_id": customer_id},
        )
    )
    room = _ok(api.post(f"/api/v1/projects/{project['id']}/rooms", json={"name": "Media room"}))
    line = {"model": "AVR-X3800H", "description": "AV receiver", "quantity": 1}
    _ok(api.post(f"/api/v1/rooms/{room['id']}/lines", json=line | {"unit_price_minor": 400_000}))
    proposal = _ok(
        api.post(
            f"/api/v1/projects/{project['id']}/proposals",
            json={"title": "Media room proposal", "tax_rate_bps": 0},
        )
    )
    _ok(api.post(f"/api/v1/proposals/{proposal['id']}/send"))

    page.goto(link)
    page.get_by_label("New password").fill(PASSWORD)
    page.get_by_label("Type it again").fill(PASSWORD)
    page.get_by_role("button", name="Set password and continue").click()
    expect(page).to_have_url(re.compile(rf"/projects/{project['id']}$"))
    return {"customer_id": customer_id, "project": project}


def _intents_for(suite: Suite, invoice_id: str) -> list[dict]:
    """localstripe's PaymentIntents made for this invoice (by our metadata)."""
    r = httpx.get(
        f"{suite.running.suite.stripe_url}/v1/payment_intents",
        params={"limit": 100},
        headers={"Authorization": f"Bearer {STRIPE_KEY}"},
        trust_env=False,
    )
    assert r.status_code == 200, r.text
    return [i for i in r.json()["data"] if i["metadata"].get("invoice_id") == invoice_id]


def _stripe_events(suite: Suite, intent_id: str) -> list[str]:
    """The webhook events payments recorded for this intent (its own database,
    read in a thread: sync Playwright keeps this thread's event loop busy)."""
    from sqlalchemy import text

    from services.chassis.db import UnitOfWork, make_engine, make_sessionmaker

    found: list[str] = []

    async def read() -> None:
        engine = make_engine(suite.running.suite.database_urls["payments"], pool_size=1)
        try:
            tenant = suite.running.info["tenant_id"]
            async with UnitOfWork(make_sessionmaker(engine), tenant) as uow:
                rows = await uow.session.execute(
                    text("SELECT type, payload::text FROM stripe_event")
                )
                found.extend(t for t, payload in rows if intent_id in payload)
        finally:
            await engine.dispose()

    worker = threading.Thread(target=lambda: asyncio.run(read()))
    worker.start()
    worker.join(30)
    return found


def _sign_and_reach_the_deposit(suite: Suite, page: Page) -> dict:
    """Accept & pay: signing the proposal leads to the deposit's pay page."""
    built = _signed_proposal_project(suite, page)
    page.goto(suite.base + f"/projects/{built['project']['id']}/proposal")
    page.get_by_label("Your full name").fill("Jane Harrison")
    page.get_by_label("I have read the statement above and I agree to it.").check()
    page.get_by_role("button", name="Sign and accept").click()
    expect(page).to_have_url(re.compile(r"/invoices/[0-9a-f-]{36}/pay$"), timeout=30_000)
    return built | {"invoice_id": page.url.split("/invoices/")[1].split("/")[0]}


def _post_pay_form(suite: Suite, page: Page, invoice_id: str, amount: str, times: int = 1):
    """The pay page's own form sent `times` times at once from the page (as a
    double submit would), with a card made on localstripe with the
    publishable key (what Stripe.js does in the page): [(status, final URL)]."""
    page.goto(suite.base + f"/invoices/{invoice_id}/pay?choice=part&amount={amount}")
    token = httpx.post(
        f"{suite.running.suite.stripe_url}/v1/tokens",
        data={
            "card[number]": "4242424242424242",
            "card[exp_month]": "12",
            "card[exp_year]": "2030",
            "card[cvc]": "123",
            "key": "pk_test_portal",
        },
        trust_env=False,
    )
    assert token.status_code == 200, token.text
    return page.evaluate(
        """async ([card, times]) => {
            const form = document.getElementById("pay-form");
            const data = new URLSearchParams(new FormData(form));
            data.set("payment_method_id", card);
            const send = () => fetch(form.action, {method: "POST", body: data});
            const answers = await Promise.all(Array.from({length: times}, send));
            return answers.map((r) => [r.status, new URL(r.url).pathname]);
        }""",
        [token.json()["card"]["id"], times],
    )


def _fill_test_card(page: Page) -> None:
    """localstripe's stand-in card element: five plain inputs (Stripe's own
    is an iframe; this is the offline double, in the same place)."""
    element = page.locator("#card-element")
    element.get_by_placeholder("number").fill("4242424242424242")
    element.get_by_placeholder("exp_month").fill("12")
    element.get_by_placeholder("exp_year").fill("30")
    element.get_by_placeholder("cvc").fill("123")
    element.get_by_placeholder("postal_code").fill("06880")


def test_a_client_signs_pays_part_of_the_deposit_and_sees_it_partly_paid(
    page: Page, suite: Suite
) -> None:
    invoice_id = _sign_and_reach_the_deposit(suite, page)["invoice_id"]
    expect(page.get_by_text("The proposal is signed and accepted")).to_be_visible()
    expect(page.get_by_role("radio", name="The full balance: $2,000.00")).to_be_checked()
    _fits(page)
    shot(page, "pay-amount")

    # Too little is refused by payments, in words, next to the field.
    page.get_by_label("Part of it").check()
    page.get_by_label(re.compile("^Amount to pay now")).fill("10")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("#f-amount-error")).to_contain_text("$500.00")

    page.get_by_label("Part of it").check()
    page.get_by_label(re.compile("^Amount to pay now")).fill("500")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="You are paying $500.00")).to_be_visible()
    _fill_test_card(page)
    _fits(page)
    shot(page, "pay-card")

    # A double click: one PaymentMethod, one form, one PaymentIntent.
    page.get_by_role("button", name="Pay $500.00").dblclick()
    expect(page).to_have_url(re.compile(rf"/invoices/{invoice_id}/payments/[0-9a-f-]{{36}}$"))
    expect(page.get_by_role("heading", name="Thank you: payment received")).to_be_visible()
    expect(page.locator(".receipt")).to_contain_text("Visa ending 4242")
    expect(page.get_by_text("Partly paid")).to_be_visible()
    _fits(page)
    shot(page, "receipt")
    intents = _intents_for(suite, invoice_id)
    assert len(intents) == 1 and intents[0]["amount"] == 50_000
    assert intents[0]["status"] == "succeeded"

    # localstripe's signed webhook for it reached payments through the gateway.
    deadline = 60
    while deadline and "payment_intent.succeeded" not in _stripe_events(suite, intents[0]["id"]):
        page.wait_for_timeout(500)
        deadline -= 1
    assert "payment_intent.succeeded" in _stripe_events(suite, intents[0]["id"])

    page.get_by_role("link", name="Back to the invoice").click()
    head = page.locator(".page-head")
    expect(head).to_contain_text("Partly paid")
    expect(page.locator(".pay-box")).to_contain_text("$1,500.00")
    expect(page.get_by_role("link", name="Pay now")).to_be_visible()
    expect(page.get_by_role("link", name="Download PDF")).to_have_attribute(
        "href", f"/api/v1/invoices/{invoice_id}/pdf"
    )
    _fits(page)
    shot(page, "invoice")

    page.get_by_role("link", name="Invoices", exact=True).first.click()
    expect(page.get_by_role("heading", name="To pay")).to_be_visible()
    expect(page.get_by_text("Partly paid")).to_be_visible()
    _fits(page)
    shot(page, "invoices")


def test_a_resubmitted_pay_form_makes_one_payment(page: Page, suite: Suite) -> None:
    """The same page's form sent twice (a resubmit, the back button, a slow
    double click past the page's own guard): one payment, one PaymentIntent."""
    built = _sign_and_reach_the_deposit(suite, page)
    invoice_id = built["invoice_id"]
    answers = _post_pay_form(suite, page, invoice_id, "600", times=2)
    ((first, where), (second, again)) = answers
    assert (first, second) == (200, 200)
    assert where == again and f"/invoices/{invoice_id}/payments/" in where
    assert len(_intents_for(suite, invoice_id)) == 1

    # A project whose proposal is not signed yet: its deposit is "being prepared".
    other = _ok(
        suite.api.post(
            "/api/v1/projects", json={"name": "Garden audio", "customer_id": built["customer_id"]}
        )
    )
    page.goto(suite.base + f"/projects/{other['id']}/deposit")
    expect(
        page.get_by_role("heading", name="Your deposit invoice is being prepared")
    ).to_be_visible()
    expect(page.get_by_role("link", name="Check again")).to_be_visible()
    _fits(page)
    shot(page, "deposit-preparing")


def test_an_archived_customer_sees_the_invoice_but_no_pay_button(page: Page, suite: Suite) -> None:
    built = _sign_and_reach_the_deposit(suite, page)
    invoice_id = built["invoice_id"]
    _ok(
        suite.api.post(
            f"/api/v1/customers/{built['customer_id']}/access", json={"state": "archived"}
        )
    )
    for _ in range(40):  # the gateway's credential cache: a few seconds at most
        page.goto(suite.base + f"/invoices/{invoice_id}")
        if page.get_by_role("link", name="Pay now").count() == 0:
            break
        page.wait_for_timeout(500)
    expect(page.get_by_role("link", name="Pay now")).to_have_count(0)
    expect(page.locator(".pay-box")).to_contain_text("Your portal is archived")
    expect(page.locator(".page-head")).to_contain_text("Due")
    page.goto(suite.base + f"/invoices/{invoice_id}/pay")
    expect(page).to_have_url(re.compile(rf"/invoices/{invoice_id}$"))
    _fits(page)
    shot(page, "invoice-archived")


def test_staff_record_a_transfer_and_refund_in_the_console(
    page: Page, suite: Suite, chromium
) -> None:
    # The client signs and pays $600.00 by card in their own browser.
    client = chromium.new_context(viewport=page.viewport_size, locale="en-US")
    client.set_default_timeout(15_000)
    client_page = client.new_page()
    built = _sign_and_reach_the_deposit(suite, client_page)
    invoice_id, project = built["invoice_id"], built["project"]
    ((status, where),) = _post_pay_form(suite, client_page, invoice_id, "600")
    assert status == 200 and "/payments/" in where
    client.close()

    info = suite.running.info
    page.goto(suite.base + "/")
    page.get_by_label("Email address").fill(info["staff_email"])
    page.get_by_label("Password").fill(suite.staff_password())
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/console$"))

    page.goto(suite.base + "/console/payments")
    expect(page.get_by_label("Publishable key")).to_have_value("pk_test_portal")
    _fits(page)
    shot(page, "console-payments")

    # The console's heaviest page (board, rooms, proposals): slow on a loaded machine.
    page.goto(suite.base + f"/console/projects/{project['id']}", timeout=60_000)
    page.get_by_role("link", name="Invoices and payment plan").click()
    expect(page.get_by_role("heading", name="Invoices and payment plan")).to_be_visible()
    expect(page.locator("#invoices")).to_contain_text("Partly paid")
    expect(page.locator("#m-0-label")).to_have_value(re.compile(r".+"))
    _fits(page)
    shot(page, "console-invoices")

    # A draft with one line, issued.
    page.locator("#l-0-d").fill("Extra cable run")
    page.locator("#l-0-p").fill("350.00")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("heading", name="Draft invoice")).to_be_visible()
    page.get_by_role("button", name="Issue $350.00").click()
    expect(page.get_by_text("Issued: the client can see and pay it now.")).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile(r"^Invoice \S+-\d+"))).to_be_visible()

    # The deposit: $600.00 by card; the staff record $1,000.00 by transfer.
    page.goto(suite.base + f"/console/invoices/{invoice_id}")
    record = page.locator("#record")
    # Received today unless they say otherwise (the firm's today), never later.
    received = record.get_by_label("Received on")
    expect(received).to_have_value(re.compile(r"^\d{4}-\d{2}-\d{2}$"))
    assert received.get_attribute("max") == received.input_value()
    record.get_by_label("How it came").select_option("bank_transfer")
    record.get_by_label(re.compile("^Amount")).fill("1,000.00")
    record.get_by_label("Reference").fill("BACS 99812")
    record.get_by_role("button", name="Record payment").click()
    expect(page.get_by_text("Recorded $1,000.00 received.")).to_be_visible()
    payments = page.locator("#payments-heading").locator("..")
    expect(payments).to_contain_text("Bank transfer · BACS 99812")
    expect(page.locator(".sums").first).to_contain_text("$1,600.00")

    # Refund $40.00 of the card payment.
    card_row = payments.locator(".row", has_text="Visa ending 4242")
    card_row.get_by_text("Refund", exact=True).click()
    card_row.get_by_label(re.compile("^Amount to refund")).fill("40")
    card_row.get_by_label("Reason").fill("Cable not needed")
    card_row.get_by_role("button", name=re.compile("^Refund")).click()
    expect(page.get_by_text("Refunded $40.00.")).to_be_visible()
    expect(payments.locator(".row", has_text="Visa ending 4242")).to_contain_text("Refunded $40.00")
    _fits(page)
    shot(page, "console-invoice")
