"""What `make run` promises about the demo project's money (issue 10's "Done
when" starts from it): the plan's deposit is paid (by card on localstripe, the
way the client pays), the install invoice is open, and the demo client can pay
part of it: at least the integrator's $500 minimum, never less."""

from __future__ import annotations

import asyncio
import time

import pytest

from deploy.books_sandbox import SANDBOX_COMPANY
from deploy.seed_payments import MINIMUM_PART_PAYMENT_MINOR
from tests.e2e.test_documents_portal import client_browser
from tests.e2e.test_projects_portal import staff
from tests.suite import Running

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
