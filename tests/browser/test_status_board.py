"""The status board and the proposal in a real browser, on a phone and on a
desktop: a client accepts their invite, lands on their project's board (the
stage track vertical on the phone, horizontal on the desktop), opens the
proposal from "Waiting on you", signs it and downloads the signed PDF.

Screenshots: tests/screenshots/board-*.png, proposal-*.png, proposal-signed-*.png,
board-payment-*.png (the deposit waiting, the next payment)."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import PASSWORD, Suite, shot

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


def _ok(response) -> dict:
    assert response.is_success, response.text
    return response.json() if response.content else {}


def build_project(suite: Suite, customer_id: str) -> dict:
    """A project in install, with dates, notes, two rooms (one hidden) and a sent proposal."""
    api, tag = suite.api, uuid.uuid4().hex[:4]
    project = _ok(
        api.post(
            "/api/v1/projects",
            json={
                "name": "Home cinema & whole-home audio",
                "customer_id": customer_id,
                "site_address": "14 Larch Lane, Westport, CT 06880",
            },
        )
    )
    pid = project["id"]
    _ok(
        api.patch(
            f"/api/v1/projects/{pid}",
            json={"project_manager_name": "Sam Lee", "project_manager_email": "sam@acme.example"},
        )
    )
    # Moving stamps the actual dates; the team then corrects them.
    _ok(api.post(f"/api/v1/projects/{pid}/stage", json={"stage": "procurement"}))
    _ok(
        api.post(
            f"/api/v1/projects/{pid}/stage",
            json={
                "stage": "install",
                "client_note": "Install has started. Expect some dust in the cinema room.",
            },
        )
    )
    dates = {
        "design": {"actual_start": "2026-01-05", "actual_finish": "2026-02-02"},
        "procurement": {"actual_start": "2026-02-03", "actual_finish": "2026-02-27"},
        "install": {
            "planned_start": "2026-03-02",
            "actual_start": "2026-03-04",
            "planned_finish": "2026-04-10",
            "client_note": "The screen wall is framed; the projector arrives on Tuesday.",
        },
        "commissioning": {"planned_start": "2026-04-13", "planned_finish": "2026-04-24"},
        "handover": {"planned_start": "2026-04-28", "planned_finish": "2026-04-30"},
    }
    for stage, fields in dates.items():
        _ok(api.patch(f"/api/v1/projects/{pid}/stages/{stage}", json=fields))
    cinema = _ok(api.post(f"/api/v1/projects/{pid}/rooms", json={"name": "Cinema room"}))
    hidden = _ok(
        api.post(
            f"/api/v1/projects/{pid}/rooms", json={"name": f"Rack {tag}", "client_visible": False}
        )
    )
    for manufacturer, model, description, quantity, price in (
        ("Sony", "VPL-XW5000", "4K laser projector", 1, 599_900),
        ("Screen Innovations", "Solo Pro 2", '120" screen', 1, 289_500),
        ("Triad", "InWall Gold LCR", "Front speakers", 3, 189_500),
    ):
        line = {
            "manufacturer": manufacturer,
            "model": model,
            "description": description,
            "quantity": quantity,
            "unit_price_minor": price,
        }
        _ok(api.post(f"/api/v1/rooms/{cinema['id']}/lines", json=line))
    secret = {"model": f"SECRET-{tag}", "quantity": 4, "unit_price_minor": 2_500}
    _ok(api.post(f"/api/v1/rooms/{cinema['id']}/lines", json=secret | {"client_visible": False}))
    _ok(
        api.post(
            f"/api/v1/rooms/{hidden['id']}/lines",
            json={"model": f"RACK-{tag}", "quantity": 1, "unit_price_minor": 120_000},
        )
    )
    proposal = _ok(
        api.post(
            f"/api/v1/projects/{pid}/proposals",
            json={
                "title": "Home cinema proposal",
                "introduction": "Thank you for the walkthrough.\nHere is what we propose.",
                "labour_minor": 450_000,
                "discount_minor": 50_000,
                "tax_rate_bps": 635,
            },
        )
    )
    _ok(api.post(f"/api/v1/proposals/{proposal['id']}/send"))
    return {"project": project, "secrets": (f"SECRET-{tag}", f"RACK-{tag}", f"Rack {tag}")}


def test_a_client_follows_their_project_and_signs_the_proposal(page: Page, suite: Suite) -> None:
    customer_id, _, link = suite.invited_contact("approver")
    built = build_project(suite, customer_id)
    project = built["project"]

    page.goto(link)
    page.get_by_label("New password").fill(PASSWORD)
    page.get_by_label("Type it again").fill(PASSWORD)
    page.get_by_role("button", name="Set password and continue").click()

    # One project: home is its status board.
    expect(page).to_have_url(re.compile(rf"/projects/{project['id']}$"))
    expect(page.get_by_role("heading", name="Home cinema & whole-home audio")).to_be_visible()
    track = page.get_by_role("list", name="Project stages")
    steps = track.get_by_role("listitem")
    expect(steps).to_have_count(5)
    expect(track.locator('[aria-current="step"]')).to_contain_text("Install")
    expect(track).to_contain_text("Finished 27 Feb 2026")
    expect(page.get_by_text("Forecast handover")).to_be_visible()
    # The team's note on install is news as much as the move's, newest first,
    # and is not repeated under the step.
    notes = page.locator(".notes .note")
    expect(notes).to_have_count(2)
    expect(notes.first).to_contain_text("The screen wall is framed")
    expect(notes.nth(1)).to_contain_text("Install has started.")
    expect(track).not_to_contain_text("The screen wall is framed")
    expect(page.get_by_role("heading", name="Waiting on you")).to_be_visible()
    contact_button = page.get_by_role("link", name="Contact the project team")
    href = contact_button.get_attribute("href") or ""
    assert href.startswith("mailto:sam@acme.example?subject=Home%20cinema%20%26%20whole-home")
    assert "Jane%20Harrison" in href

    boxes = [steps.nth(i).bounding_box() for i in range(5)]
    assert all(boxes)
    width = page.viewport_size["width"]
    if width < 700:  # a phone: one above the other
        assert all(boxes[i + 1]["y"] > boxes[i]["y"] for i in range(4))  # type: ignore[index]
    else:  # a desktop: side by side
        assert all(abs(boxes[i + 1]["y"] - boxes[0]["y"]) < 2 for i in range(4))  # type: ignore[index]
        assert all(boxes[i + 1]["x"] > boxes[i]["x"] for i in range(4))  # type: ignore[index]
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    for secret in built["secrets"]:
        expect(page.get_by_text(secret)).to_have_count(0)
    shot(page, "board")

    page.get_by_role("link", name=re.compile("^Review")).first.click()
    expect(page).to_have_url(re.compile(rf"/projects/{project['id']}/proposal$"))
    expect(page.get_by_role("heading", name="Home cinema proposal")).to_be_visible()
    expect(page.get_by_text("Sony VPL-XW5000 - 4K laser projector")).to_be_visible()
    for secret in built["secrets"]:
        expect(page.get_by_text(secret)).to_have_count(0)
    consent = page.locator("#consent-statement")
    expect(consent).to_contain_text("electronic signature")
    name_box = page.get_by_label("Your full name")
    assert consent.bounding_box()["y"] < name_box.bounding_box()["y"]  # type: ignore[index]
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    shot(page, "proposal")

    name_box.fill("Jane Harrison")
    page.get_by_label("I have read the statement above and I agree to it.").check()
    page.get_by_role("button", name="Sign and accept").click()
    # Accept & pay: the plan asks for a deposit on acceptance, so signing
    # leads to its pay page (tests/browser/test_payments.py pays it).
    expect(page).to_have_url(re.compile(r"/invoices/[0-9a-f-]{36}/pay$"), timeout=30_000)
    expect(page.get_by_text("The proposal is signed and accepted")).to_be_visible()
    page.goto(suite.base + f"/projects/{project['id']}/proposal")
    expect(page.get_by_role("heading", name="Signed and accepted")).to_be_visible()
    signature = page.get_by_role("region", name="Signed and accepted")
    # The typed name, and the email of the contact who signed (from their session).
    expect(signature).to_contain_text(re.compile(r"Jane Harrison \([^)\s]+@example\.com\)"))
    expect(page.get_by_role("button", name="Sign and accept")).to_have_count(0)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    shot(page, "proposal-signed")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download signed PDF").click()
    assert download.value.suggested_filename.endswith(".pdf")

    # The proposal waits on nobody now; the deposit its acceptance invoiced
    # does (payments' event, kept by projects), and it is the next payment.
    board = suite.base + f"/projects/{project['id']}"
    page.goto(board)
    expect(page.get_by_role("link", name="View your signed proposal")).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("^Review"))).to_have_count(0)
    invoice_item = page.locator(".waiting-title", has_text=re.compile(r"^Invoice INV-\d+, "))
    next_payment = page.get_by_text("Next payment: Deposit")
    for _ in range(60):  # the board is drawn on the server: look again until both land
        if invoice_item.count() and next_payment.count():
            break
        page.wait_for_timeout(500)
        page.goto(board)
    expect(invoice_item).to_have_count(1)
    expect(invoice_item).to_contain_text(re.compile(r"\$[\d,]+\.\d\d due \d+ \w{3} \d{4}$"))
    pay = page.get_by_role("link", name=re.compile("^Pay"))
    assert re.search(r"/invoices/[0-9a-f-]{36}$", pay.get_attribute("href") or "")
    expect(next_payment).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    shot(page, "board-payment")


def test_staff_manage_a_project_from_the_console(page: Page, suite: Suite) -> None:
    customer_id, _, _ = suite.invited_contact("approver")
    built = build_project(suite, customer_id)
    project = built["project"]
    info = suite.running.info
    page.goto(suite.base + "/")
    page.get_by_label("Email address").fill(info["staff_email"])
    page.get_by_label("Password").fill(suite.staff_password())
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/console$"))

    page.goto(suite.base + f"/console/customers/{customer_id}")
    page.get_by_role("link", name=re.compile("^Projects for ")).click()
    page.get_by_role("link", name="Home cinema & whole-home audio").click()
    expect(page).to_have_url(re.compile(rf"/console/projects/{project['id']}$"))
    hidden_room = built["secrets"][2]
    expect(page.get_by_role("heading", name=hidden_room)).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    shot(page, "console-project")

    room = page.get_by_role("region", name=hidden_room)
    expect(room.get_by_text("hidden with its room")).to_be_visible()
    room.get_by_role("button", name=re.compile("^Show to client")).click()
    expect(page.get_by_text(f"{hidden_room} is shown to the client.")).to_be_visible()
    room.get_by_role("button", name=re.compile("^Hide from client")).click()
    expect(page.get_by_text(f"{hidden_room} is hidden from the client.")).to_be_visible()
