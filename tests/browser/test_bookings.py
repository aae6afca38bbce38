"""Booking a visit in a real browser, on a phone and on a desktop: the client
opens Visits from the board, picks the projector in their cinema room,
describes the fault, attaches a photo, picks a day then a time, books; sees
the visit under Upcoming; moves it; cancels it.

Screenshots: tests/screenshots/visit-book-equipment-*, visit-book-time-*,
visits-*, visit-move-*."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import PASSWORD, Suite, shot
from tests.e2e.test_bookings_portal import service_type, technician

pytestmark = [pytest.mark.browser, pytest.mark.e2e]
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)


def _ok(response) -> dict:
    assert response.is_success, response.text
    return response.json() if response.content else {}


def on_the_side(coro):
    """Bookings' setup is async gRPC; Playwright's sync API owns this thread."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def cinema_for(suite: Suite, customer_id: str, tag: str) -> dict:
    api = suite.api
    project = _ok(
        api.post("/api/v1/projects", json={"name": "Home cinema", "customer_id": customer_id})
    )
    pid = project["id"]
    _ok(api.patch(f"/api/v1/projects/{pid}", json={"service_contract": True}))
    room = _ok(api.post(f"/api/v1/projects/{pid}/rooms", json={"name": "Cinema room"}))
    _ok(
        api.post(
            f"/api/v1/rooms/{room['id']}/lines",
            json={
                "manufacturer": "Sony",
                "model": "VPL-XW5000",
                "description": "4K laser projector",
                "quantity": 1,
                "unit_price_minor": 599_900,
            },
        )
    )
    return project


def bookable(suite: Suite, project_id: str) -> None:
    """Bookings learns of the project and its contract from projects' events."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = _ok(suite.api.get("/api/v1/bookings/projects"))["projects"]
        if any(p["project_id"] == project_id and p["service_contract"] for p in found):
            return
        time.sleep(0.2)
    raise AssertionError("bookings never heard of the project's service contract")


@pytest.mark.timeout(900)  # a whole suite and a browser on a shared 2-core machine
def test_a_client_books_moves_and_cancels_a_visit(page: Page, suite: Suite, tmp_path) -> None:
    tag = uuid.uuid4().hex[:6]
    on_the_side(technician(suite.running, tag))
    stype = on_the_side(service_type(suite.running, tag, name=f"Projector check {tag}"))
    customer_id, _, link = suite.invited_contact("approver")
    project = cinema_for(suite, customer_id, tag)
    bookable(suite, project["id"])
    width = page.viewport_size["width"]

    page.goto(link)
    page.get_by_label("New password").fill(PASSWORD)
    page.get_by_label("Type it again").fill(PASSWORD)
    page.get_by_role("button", name="Set password and continue").click()
    expect(page).to_have_url(re.compile(rf"/projects/{project['id']}$"))
    page.get_by_role("link", name="Visits", exact=True).first.click()
    expect(page.get_by_role("heading", name="Visits", level=1)).to_be_visible()
    expect(page.get_by_text("No visits booked.")).to_be_visible()

    page.get_by_role("link", name="Book a visit").first.click()
    kind = page.get_by_label(f"Projector check {tag}")
    if kind.count():  # one kind of visit on offer is shown, not asked
        kind.check()
    page.get_by_label("Sony VPL-XW5000 — Cinema room").check()
    shot(page, "visit-book-equipment")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.get_by_role("button", name=re.compile("^Next")).click()

    days = page.get_by_role("navigation", name="Pick a day").get_by_role("link")
    days.nth(1).click()
    expect(page.get_by_role("group", name=re.compile("^Pick a time on"))).to_be_visible()
    page.locator(".slot label").nth(1).click()
    page.get_by_label("What's wrong?").fill("The picture flickers after ten minutes.")
    photo = tmp_path / "flicker.png"
    photo.write_bytes(PNG)
    page.get_by_label("A photo (optional)").set_input_files(str(photo))
    shot(page, "visit-book-time")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.get_by_role("button", name="Book this visit").click()

    expect(page.get_by_text(re.compile(f"^Booked: Projector check {tag}"))).to_be_visible()
    card = page.locator(".visit").first
    expect(card.get_by_text("VPL-XW5000")).to_be_visible()
    expect(card.get_by_text("1 photo attached")).to_be_visible()
    expect(card.get_by_text("The picture flickers after ten minutes.")).to_be_visible()
    shot(page, "visits")
    assert page.evaluate("document.documentElement.scrollWidth") <= width

    card.get_by_role("link", name="Change time").click()
    expect(page.get_by_role("heading", name="Change the time")).to_be_visible()
    page.get_by_role("navigation", name="Pick a day").get_by_role("link").nth(2).click()
    page.locator(".slot label").first.click()
    shot(page, "visit-move")
    page.get_by_role("button", name="Move the visit").click()
    expect(page.get_by_text(re.compile("^Moved to "))).to_be_visible()

    page.locator(".visit").first.get_by_text("Cancel this visit").click()
    page.get_by_role("button", name="Cancel the visit").click()
    expect(page.get_by_text("Your visit is cancelled; the time is free again.")).to_be_visible()
    expect(page.get_by_text("No visits booked.")).to_be_visible()
    expect(page.locator(".visit-cancelled")).to_have_count(1)
    assert stype.id
