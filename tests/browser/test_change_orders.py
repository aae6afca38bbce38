"""A change order in a real browser, on a phone and on a desktop: the client
signs the proposal, opens the change order staff sent (changed lines first,
the price and schedule impact at the top), pushes back one line, reads
revision 2 with the thread, signs it and downloads the certificate. Nothing
spills sideways on the phone; staff-only lines never show.

Screenshots: tests/screenshots/change-order-*.png, change-order-signed-*.png,
board-change-order-*.png (the board asking for the approval)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import PASSWORD, Suite, shot
from tests.browser.test_status_board import _ok, build_project

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


def _no_sideways_scroll(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


def test_the_client_pushes_back_a_line_then_approves_revision_two(page: Page, suite: Suite) -> None:
    customer_id, _, link = suite.invited_contact("approver")
    built = build_project(suite, customer_id)
    pid = built["project"]["id"]
    page.goto(link)
    page.get_by_label("New password").fill(PASSWORD)
    page.get_by_label("Type it again").fill(PASSWORD)
    page.get_by_role("button", name="Set password and continue").click()
    page.goto(suite.base + f"/projects/{pid}/proposal")
    page.get_by_label("Your full name").fill("Jane Harrison")
    page.get_by_label("I have read the statement above and I agree to it.").check()
    page.get_by_role("button", name="Sign and accept").click()
    # Accepting lands on the deposit invoice it raised, saying so.
    expect(page.get_by_text("The proposal is signed and accepted.")).to_be_visible()

    deadline = (datetime.now(UTC) + timedelta(days=7)).isoformat()
    changes = [
        {
            "kind": "added",
            "room_key": "R1",
            "description": "SVS SB-3000 subwoofer",
            "quantity": 1,
            "unit_price_minor": 129_900,
            "note": "Matches the front sub",
        },
        {"kind": "quantity", "line_key": "R1.3", "quantity": 5, "note": "Two more surrounds"},
    ]
    order = _ok(
        suite.api.post(
            f"/api/v1/projects/{pid}/change-orders",
            json={
                "title": "Second subwoofer",
                "reason": "The room measured bigger than surveyed.",
                "changes": changes,
                "schedule_impact_days": 3,
                "shift_from_stage": "commissioning",
                "approval_deadline": deadline,
            },
        )
    )
    _ok(suite.api.post(f"/api/v1/change-orders/{order['id']}/send"))

    # The client's board asks for the approval (projects consumes `sent`).
    board = suite.base + f"/projects/{pid}"
    awaiting = page.locator(
        ".waiting-title", has_text=re.compile(r"^CO-\d+ Second subwoofer awaits your approval")
    )
    for _ in range(60):  # the board is drawn on the server: look again until it lands
        page.goto(board)
        if awaiting.count():
            break
        page.wait_for_timeout(500)
    expect(awaiting).to_contain_text(re.compile(r"— by \d+ \w{3}$"))
    review = page.locator(".waiting-item", has=awaiting).get_by_role("link")
    expect(review).to_have_attribute("href", f"/projects/{pid}/change-orders/{order['id']}")
    _no_sideways_scroll(page)
    shot(page, "board-change-order")
    page.get_by_role("link", name="Change orders").click()
    page.get_by_role("link", name=re.compile("Second subwoofer")).click()
    expect(page.get_by_role("heading", name=re.compile("Second subwoofer"))).to_be_visible()
    expect(page.get_by_text("+3 days")).to_be_visible()
    expect(page.get_by_text("SVS SB-3000 subwoofer").first).to_be_visible()
    for secret in built["secrets"]:
        expect(page.get_by_text(secret)).to_have_count(0)
    _no_sideways_scroll(page)
    shot(page, "change-order")
    lines = page.locator(".diff-lines")
    projector = lines.get_by_text(re.compile("4K laser projector"))  # R1.1, unchanged
    if page.viewport_size["width"] < 600:
        # The phone shows what changed; the rest of the contract is one tap away.
        expect(projector).to_be_hidden()
        lines.get_by_role("button", name="Show the 2 unchanged items").click()
        expect(projector).to_be_visible()
        hide = lines.get_by_role("button", name="Hide the unchanged items")
        expect(hide).to_have_attribute("aria-expanded", "true")
        _no_sideways_scroll(page)
    else:  # the desktop's side-by-side view keeps every line
        expect(projector).to_be_visible()
        expect(lines.get_by_role("button")).to_have_count(0)

    page.get_by_text(re.compile("Comment on .*Front speakers")).click()
    page.get_by_label(re.compile("Your comment on .*Front speakers")).fill(
        "Three surrounds are enough."
    )
    page.get_by_role("button", name="Send back with comments").click()
    expect(page.get_by_text("Your comments are with the team")).to_be_visible()
    expect(page.get_by_text("Three surrounds are enough.")).to_be_visible()

    _ok(
        suite.api.post(
            f"/api/v1/change-orders/{order['id']}/revise",
            json={"changes": changes[:1], "comment": "Agreed: the sub only."},
        )
    )
    _ok(suite.api.post(f"/api/v1/change-orders/{order['id']}/send"))
    page.reload()
    expect(page.get_by_text("Agreed: the sub only.")).to_be_visible()
    expect(page.get_by_text(re.compile("^Revision 2"))).to_be_visible()
    page.get_by_label("Your full name").fill("Jane Harrison")
    page.get_by_label("I have read the statement above and I agree to it.").check()
    page.get_by_role("button", name="Sign and approve").click()
    expect(page.get_by_role("heading", name="Approved and signed")).to_be_visible()
    expect(page.get_by_role("button", name="Sign and approve")).to_have_count(0)
    _no_sideways_scroll(page)
    shot(page, "change-order-signed")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the signed certificate").click()
    assert download.value.suggested_filename.endswith(".pdf")
    with open(download.value.path(), "rb") as pdf:
        assert pdf.read(4) == b"%PDF"
