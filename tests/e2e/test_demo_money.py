"""What `make run` promises about the demo project's money (issue 10's "Done
when" starts from it): the plan's deposit is paid (by card on localstripe, the
way the client pays), the install invoice is open, and the demo client can pay
part of it: at least the integrator's $500 minimum, never less."""

from __future__ import annotations

import asyncio
import re
import time

import pytest

from deploy.books_sandbox import SANDBOX_COMPANY
from deploy.seed_payments import LOCALSTRIPE_PUBLISHABLE_KEY, MINIMUM_PART_PAYMENT_MINOR
from tests.browser.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    SCREENSHOTS,
    VIEWPORTS,
    needs_chromium,
)
from tests.e2e.test_documents_portal import client_browser
from tests.e2e.test_front_door import staff_browser
from tests.e2e.test_projects_portal import staff
from tests.suite import Running, wait_for

pytestmark = pytest.mark.e2e
JANE = "jane.harrison@example.com"


async def test_the_demo_deposit_is_paid_and_the_install_invoice_is_open(running: Running, gw):
    project = running.info["demo_project_id"]
    page = await staff(gw, running, "GET", f"/api/v1/invoices?project_id={project}")
    by_milestone = {i["milestone"]: i for i in page["invoices"]}
    deposit, install = by_milestone["acceptance"], by_milestone["install"]

    assert deposit["status"] == "paid" and deposit["due"]["amount_minor"] == 0
    deposit = await staff(gw, running, "GET", f"/api/v1/invoices/{deposit['id']}")  # its payments
    (paid,) = [p for p in deposit["payments"] if p["status"] == "succeeded"]
    assert (
        paid["method"] == "card"
        and paid["applied"]["amount_minor"] == deposit["total"]["amount_minor"]
    )
    assert install["status"] == "open"
    assert install["due"] == install["total"] and install["total"]["amount_minor"] > 0
    assert running.info["demo_invoices"]["install"]["number"] == install["number"]

    plan = await staff(gw, running, "GET", f"/api/v1/projects/{project}/payment-plan")
    invoiced = {m["trigger"]: m["invoiced"] for m in plan["milestones"]}
    assert invoiced == {"acceptance": True, "install": True, "handover": False}
    assert plan["next"]["trigger"] == "handover"  # the next still to be invoiced

    settings = await staff(gw, running, "GET", "/api/v1/payment-settings")
    assert settings["minimum_payment_minor"] == MINIMUM_PART_PAYMENT_MINOR
    # Without it the pay page says "paying online is not set up yet".
    assert settings["publishable_key"] == LOCALSTRIPE_PUBLISHABLE_KEY


async def test_the_console_list_says_due_only_where_money_is_due(running: Running, mail):
    """A paid invoice's row shows its total, not "$0.00 due"; the open one says what is due."""
    project = running.info["demo_project_id"]
    async with await staff_browser(running, mail) as browser:
        listing = await browser.get(f"/console/projects/{project}/invoices")
    assert listing.status_code == 200, listing.text
    numbers = running.info["demo_invoices"]
    rows = {
        number: row
        for row in re.findall(r'<li class="row">(.*?)</li>', listing.text, re.S)
        for number in (numbers["deposit"]["number"], numbers["install"]["number"])
        if f">{number}</a>" in row
    }
    assert " due</p>" not in rows[numbers["deposit"]["number"]]
    assert re.search(r"\$[\d,]+\.\d\d due</p>", rows[numbers["install"]["number"]])


async def test_the_demo_client_can_pay_part_of_the_install_invoice_but_not_below_the_minimum(
    running: Running,
):
    install_id = running.info["demo_invoices"]["install"]["id"]
    async with await client_browser(running, JANE) as jane:
        mine = await jane.api("GET", f"/api/v1/invoices/{install_id}")
        assert mine.status_code == 200, mine.text
        shown = mine.json()
        currency = shown["due"]["currency"]
        assert shown["payable"]["amount_minor"] > MINIMUM_PART_PAYMENT_MINOR

        part = await jane.api(
            "POST",
            f"/api/v1/invoices/{install_id}/quote",
            {"amount_minor": MINIMUM_PART_PAYMENT_MINOR, "currency": currency, "method": "card"},
        )
        assert part.status_code == 200, part.text
        assert part.json()["applied"]["amount_minor"] == MINIMUM_PART_PAYMENT_MINOR

        too_little = await jane.api(
            "POST",
            f"/api/v1/invoices/{install_id}/quote",
            {
                "amount_minor": MINIMUM_PART_PAYMENT_MINOR - 1,
                "currency": currency,
                "method": "card",
            },
        )
        assert too_little.status_code == 422, too_little.text
        assert "smallest payment accepted is $500.00" in too_little.json()["detail"]


async def _sync_records(gw, running: Running) -> list[dict]:
    records, token = [], ""
    while True:
        page = await staff(
            gw, running, "GET", f"/api/v1/accounting/sync-records?page_size=100&page_token={token}"
        )
        records += page["records"]
        token = page["next_page_token"]
        if not token:
            return records


async def test_the_demo_books_are_the_local_sandbox_and_get_one_post_per_record(
    running: Running, gw
):
    """Issue 10's "the sync log shows one post per record": the seed connected
    QuickBooks Online on the local sandbox through the OAuth path, and the
    demo's customer, both invoices and the deposit's payment are each posted
    once (other tests add records of their own to the shared tenant)."""
    connection = await staff(gw, running, "GET", "/api/v1/accounting")
    assert connection["connection"]["state"] == "connected", connection
    assert connection["connection"]["organisation_name"] == SANDBOX_COMPANY
    demo = running.info["demo_invoices"]
    project = running.info["demo_project_id"]
    page = await staff(gw, running, "GET", f"/api/v1/invoices?project_id={project}")
    by_milestone = {i["milestone"]: i for i in page["invoices"]}
    deposit = await staff(
        gw, running, "GET", f"/api/v1/invoices/{by_milestone['acceptance']['id']}"
    )
    (paid,) = [p for p in deposit["payments"] if p["status"] == "succeeded"]
    wanted = {
        ("customer", deposit["customer_id"]),
        ("invoice", deposit["id"]),
        ("invoice", demo["install"]["id"]),
        ("payment", paid["id"]),
    }
    deadline = time.monotonic() + 60
    while True:  # the sync job posts within seconds of the seed
        records = [
            r for r in await _sync_records(gw, running) if (r["kind"], r["record_id"]) in wanted
        ]
        if all(r["state"] == "posted" for r in records) and len(records) == len(wanted):
            break
        assert time.monotonic() < deadline, records
        await asyncio.sleep(0.5)
    assert {(r["kind"], r["record_id"]) for r in records} == wanted  # one row each, no more
    assert all(r["provider"] == "quickbooks" and r["external_id"] for r in records)


# -- issue 10's "Done when", walked in a browser ---------------------------------------


@needs_chromium
async def test_done_when_the_demo_client_pays_part_by_card_and_staff_the_rest(running: Running, gw):
    """Issue 10's "Done when" on the seed's own data, as a newcomer walks it
    after `make run`: Jane pays part of the install invoice with a test card
    on a 390 px page (localstripe's Stripe.js stand-in), sees it partly paid
    and the receipt in her documents; staff record the balance as a bank
    transfer; the invoice is paid, the board's next payment moves on to the
    handover, and the sync log has one posted row per record.

    It spends the demo install invoice, so it is this file's last test (the
    ones above read it open; no later test reads it). Screenshots:
    tests/screenshots/demo-*-{390,1280}.png."""
    from playwright.async_api import async_playwright, expect

    info = running.info
    base, project = info["demo_url"], info["demo_project_id"]
    install = await staff(
        gw, running, "GET", f"/api/v1/invoices/{info['demo_invoices']['install']['id']}"
    )
    iid, number = install["id"], install["number"]
    assert install["status"] == "open" and install["paid"]["amount_minor"] == 0
    board_path = f"/api/v1/projects/{project}/board"
    async with await client_browser(running, JANE) as jane:
        board = (await jane.api("GET", board_path)).json()
    before = board["next_payment"]
    assert before["invoice_id"] == iid, before  # the install invoice is what is due next
    stages = {s["stage"]: s for s in board["stages"]}
    # The board's track reads in order: each stage finished before the next began.
    for done, then in (("design", "procurement"), ("procurement", "install")):
        assert stages[done]["actual_finish"] < stages[then]["actual_start"], stages
    # The note staff wrote on install is the team's latest news, not "No news yet".
    notes = [(n["stage"], n["note"]) for n in board["recent_notes"]]
    assert ("install", stages["install"]["client_note"]) in notes, notes

    part = MINIMUM_PART_PAYMENT_MINOR
    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            password = next(c for c in info["client_logins"] if c["email"] == JANE)["password"]
            phone = await _signed_in(chromium, base, VIEWPORTS["phone"], JANE, password)
            desk = await _signed_in(chromium, base, VIEWPORTS["desktop"], JANE, password)

            # The invoice, then the amount step: "Part of it", the minimum.
            for page in (phone, desk):
                await page.goto(f"{base}/invoices/{iid}")
                await expect(page.locator(".page-head .state")).to_have_text(
                    re.compile(r"^(Due|Overdue)$")
                )
                # The milestone's share of the proposal's tax, shown so the sums add up.
                tax = re.compile(r"Tax\s*" + re.escape(install["tax"]["formatted"]))
                await expect(page.locator(".sums", has_text="Subtotal")).to_contain_text(tax)
                await _look(page, "demo-invoice-open")
                await page.get_by_role("link", name="Pay now").click()
                await page.get_by_label("Part of it").check()
                await page.get_by_label(re.compile("^Amount to pay now")).fill("500")
                await page.get_by_role("button", name="Continue").click()
                await expect(
                    page.get_by_role("heading", name="You are paying $500.00")
                ).to_be_visible()
                await _fill_test_card(page)
                await _look(page, "demo-pay-card")

            # Jane pays on her phone; the desktop form is left unsent.
            await phone.get_by_role("button", name="Pay $500.00").click()
            await expect(phone).to_have_url(
                re.compile(rf"/invoices/{iid}/payments/[0-9a-f-]{{36}}$"), timeout=30_000
            )
            await expect(
                phone.get_by_role("heading", name="Thank you: payment received")
            ).to_be_visible()
            await expect(phone.locator(".receipt")).to_contain_text("Visa ending 4242")
            await _look(phone, "demo-receipt")
            await desk.goto(phone.url)
            await _look(desk, "demo-receipt")

            shown = await staff(gw, running, "GET", f"/api/v1/invoices/{iid}")
            assert shown["status"] == "partially_paid" and shown["paid"]["amount_minor"] == part
            (card,) = [p for p in shown["payments"] if p["method"] == "card"]
            for page in (phone, desk):
                await page.goto(f"{base}/invoices/{iid}")
                await expect(page.locator(".page-head .state")).to_have_text(
                    re.compile(r"^Partly paid")
                )
                await expect(page.locator(".pay-box")).to_contain_text(
                    shown["payable"]["formatted"]
                )
                await _look(page, "demo-invoice-partly-paid")

            # The receipt is filed in the project's documents, client-visible.
            # Titled by its number, amount and day: two receipts never read alike.
            receipt = f"Receipt R1 for {number}: $500.00 on "
            for page in (phone, desk):
                for _ in range(60):  # filed after commit, through the outbox
                    await page.goto(f"{base}/projects/{project}/documents")
                    if await page.get_by_text(receipt).count():
                        break
                    await page.wait_for_timeout(500)
                await expect(page.get_by_text(receipt).first).to_be_visible()
                await _look(page, "demo-documents")

            # Staff record the balance as a bank transfer.
            paid = await staff(
                gw,
                running,
                "POST",
                f"/api/v1/invoices/{iid}/offline-payments",
                json={
                    "method": "bank_transfer",
                    "amount_minor": shown["due"]["amount_minor"],
                    "currency": shown["due"]["currency"],
                    "reference": "BACS 20417",
                },
            )
            assert paid["status"] == "paid" and paid["due"]["amount_minor"] == 0
            assert paid["paid"] == paid["total"]
            (transfer,) = [p for p in paid["payments"] if p["method"] == "bank_transfer"]

            async with await client_browser(running, JANE) as jane:

                async def moved_on():
                    nxt = (await jane.api("GET", board_path)).json()["next_payment"]
                    return nxt if nxt and nxt["invoice_id"] != iid else None

                after = await wait_for(moved_on, timeout=40)
            assert after["stage"] == "handover" and after["invoice_id"] == "", after
            for page in (phone, desk):
                await page.goto(f"{base}/invoices/{iid}")
                await expect(page.locator(".page-head .state")).to_have_text("Paid")
                await expect(page.get_by_role("link", name="Pay now")).to_have_count(0)
                # Settled: said so, not "Due now $0.00" in the colour of money owed.
                box = page.locator(".pay-box")
                await expect(box).to_contain_text("Paid in full")
                await expect(box).to_contain_text(paid["paid"]["formatted"])
                await expect(box).not_to_contain_text("Due now")
                await expect(box).not_to_have_class(re.compile("card-attention"))
                await _look(page, "demo-invoice-paid")
                await page.goto(f"{base}/projects/{project}")
                await expect(page.get_by_text(f"Next payment: {after['label']}")).to_be_visible()
                await _look(page, "demo-board")

            # The sync log: the install invoice and each of its two payments, posted once.
            wanted = {("invoice", iid), ("payment", card["id"]), ("payment", transfer["id"])}
            deadline = time.monotonic() + 60
            while True:
                records = [
                    r
                    for r in await _sync_records(gw, running)
                    if (r["kind"], r["record_id"]) in wanted
                ]
                if len(records) == len(wanted) and all(r["state"] == "posted" for r in records):
                    break
                assert time.monotonic() < deadline, records
                await asyncio.sleep(0.5)
            assert sorted((r["kind"], r["record_id"]) for r in records) == sorted(wanted)
            assert all(r["external_id"] for r in records)

            # Staff read the same in the console's sync log.
            for viewport in (VIEWPORTS["phone"], VIEWPORTS["desktop"]):
                console = await _signed_in(
                    chromium, base, viewport, info["staff_email"], info["staff_password"]
                )
                await console.goto(f"{base}/console/accounting")
                await expect(console.get_by_role("heading", name="Sync log")).to_be_visible()
                await _look(console, "demo-sync-log")
        finally:
            await chromium.close()


async def _signed_in(chromium, base: str, viewport: dict, email: str, password: str):
    """A new browser context signed in through the sign-in page."""
    context = await chromium.new_context(viewport=viewport, locale="en-US")
    context.set_default_timeout(20_000)
    page = await context.new_page()
    await page.goto(base + "/")
    await page.get_by_label("Email address").fill(email)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(re.compile(r"/(home|console|projects/[0-9a-f-]+)$"))
    return page


async def _fill_test_card(page) -> None:
    """localstripe's stand-in card element: plain inputs where Stripe's iframe goes."""
    element = page.locator("#card-element")
    for field, value in (
        ("number", "4242424242424242"),
        ("exp_month", "12"),
        ("exp_year", "30"),
        ("cvc", "123"),
        ("postal_code", "06880"),
    ):
        await element.get_by_placeholder(field).fill(value)


async def _look(page, name: str) -> None:
    """Nothing wider than the screen, then tests/screenshots/<name>-<width>.png."""
    width = page.viewport_size["width"]
    assert await page.evaluate("document.documentElement.scrollWidth") <= width, name
    SCREENSHOTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True)
