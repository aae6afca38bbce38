"""Issue 11's "Done when", walked on the seeded demo as `make run` leaves it,
through the real pages in headless Chromium on a phone (390 px):

Jane Harrison books a projector check for next week from her phone, picking
the Sony projector in her cinema room; Olivia's dispatch calendar shows the
work order on a technician's day with that product; the technician's ICS
feed (issued on the technicians page) includes it; Jane cancels before the
cut-off and the time is offered again.

Next week's Monday: the seed has only Marcus Reed working Mondays, so a time
he takes is no longer offered and comes back only when the visit is
cancelled (the slot is really freed, not just offered by someone else).

Screenshots: demo-visit-*-390.png for every step, the key pages at 1280."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import httpx
import icalendar
import pytest
from playwright.sync_api import Browser, Page, expect

from deploy.seed import DEMO_PASSWORD
from services.bookings.domain_ics import uid_for
from tests.browser.conftest import Suite, shot
from tests.browser.test_demo_change_order_walk import (
    JANE,
    OLIVIA,
    PHONE,
    _ok,
    both_widths,
    no_sideways_scroll,
)
from tests.browser.test_error_pages import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.e2e]
WHAT = "The picture dims to grey after half an hour of a film."


@pytest.fixture
def phones(chromium: Browser) -> Iterator:
    made = [chromium.new_context(viewport=PHONE, locale="en-US") for _ in range(2)]
    for context in made:
        context.set_default_timeout(15_000)
    yield [context.new_page() for context in made]
    for context in made:
        context.close()


def _offered(page: Page, day_url: str) -> list[str]:
    """The start times the booking page offers on that day (ISO, UTC)."""
    page.goto(day_url)
    return [r.get_attribute("value") or "" for r in page.locator(".slot input").all()]


def _feed_events(suite: Suite, url: str) -> list:
    """The feed as a calendar app reads it: no cookie, no token, just the URL."""
    parts = urlsplit(url)
    with httpx.Client(base_url=suite.running.suite.gateway_url, trust_env=False) as anon:
        r = anon.get(parts.path, headers={"Host": parts.netloc.split(":")[0]})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/calendar")
    return icalendar.Calendar.from_ical(r.content).walk("VEVENT")


@pytest.mark.timeout(900)
def test_the_demo_client_books_a_projector_check_it_lands_on_dispatch_and_cancels(
    phones, suite: Suite
) -> None:
    client, staff = phones
    info = suite.running.info
    base, pid = suite.base, info["demo_project_id"]
    zone = ZoneInfo(_ok(suite.api.get("/api/v1/booking-settings"))["time_zone"])
    today = datetime.now(zone).date()
    monday = today + timedelta(days=(0 - today.weekday()) % 7 + 7)
    assert monday.isoweekday() == 1 and 7 <= (monday - today).days <= 13

    # -- Jane books from her phone: the equipment first ------------------------
    sign_in(client, base, JANE, DEMO_PASSWORD)
    expect(client).to_have_url(re.compile(r"/(home|projects/[0-9a-f-]+)$"))
    client.get_by_role("link", name="Visits", exact=True).first.click()
    expect(client.get_by_role("heading", name="Visits", level=1)).to_be_visible()
    client.get_by_role("link", name="Book a visit").first.click()
    expect(client.get_by_role("heading", name="Book a visit")).to_be_visible()
    kind = client.get_by_role("radio", name=re.compile(r"^Projector check about"))
    project = client.locator(f"#p-{pid}")
    if project.count():  # other tests may give her customer a second project
        project.check()
        kind.check()
        client.get_by_role("button", name="Next", exact=True).click()
    kind.check()
    projector = client.get_by_role("radio", name=re.compile(r"^Sony .+ — Cinema$"))
    projector.check()
    model = client.locator(f"label[for='{projector.get_attribute('id')}']").inner_text()
    model = model.split(" — ")[0].removeprefix("Sony ")
    no_sideways_scroll(client)
    both_widths(client, "demo-visit-equipment")
    client.get_by_role("button", name=re.compile("^Next")).click()

    # -- then next week's Monday, then a time ----------------------------------
    chip = client.locator(f".day-chips a[href*='day={monday.isoformat()}']")
    expect(chip).to_have_count(1)
    day_url = base + (chip.get_attribute("href") or "").split("#")[0]
    chip.click()
    expect(client.get_by_role("group", name=re.compile("^Pick a time on Monday"))).to_be_visible()
    # The chips scroll sideways on a phone: the chosen day is scrolled into view.
    picked = client.locator(".day-chips [aria-current='true']")
    expect(picked).to_have_text(f"Mon {monday.day} {monday:%b}")
    box = picked.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    place = zone.key.rsplit("/", 1)[-1].replace("_", " ")  # "New York", not "America/New_York"
    expect(client.get_by_text(f"Times are {place} time, where the visit is.")).to_be_visible()
    first = client.locator(".slot input").first
    starts_at = first.get_attribute("value") or ""
    time_label = client.locator(".slot label").first.inner_text()
    first.check()
    client.get_by_label("What's wrong?").fill(WHAT)
    no_sideways_scroll(client)
    both_widths(client, "demo-visit-time")
    client.get_by_role("button", name="Book this visit").click()
    expect(client.get_by_text(re.compile("^Booked: Projector check"))).to_be_visible()
    card = client.locator(".visit", has_text=WHAT)  # hers alone: other tests book for Jane too
    expect(card).to_contain_text(f"Sony {model} — Cinema")
    expect(card).to_contain_text("Technician: Marcus Reed")  # Mondays are his alone
    booking_id = (card.get_attribute("id") or "").removeprefix("visit-")
    no_sideways_scroll(client)
    both_widths(client, "demo-visit-booked")
    # Marcus is the only one free on Mondays: the time is taken now.
    assert starts_at not in _offered(client, day_url), f"{time_label} still offered"

    # -- the dispatch calendar shows it on Marcus's day, with the projector ----
    start = datetime.fromisoformat(starts_at)
    orders = _ok(
        suite.api.get(
            "/api/v1/work-orders",
            params={
                "from": start.isoformat(),
                "to": (start + timedelta(hours=1)).isoformat(),
                "project_id": pid,
            },
        )
    )["work_orders"]
    (order,) = [w for w in orders if w["booking_id"] == booking_id]
    sign_in(staff, base, OLIVIA, DEMO_PASSWORD)
    expect(staff).to_have_url(re.compile(r"/console$"))
    staff.get_by_role("navigation", name="Main").get_by_role("link", name="Dispatch").click()
    staff.goto(f"{base}/console/dispatch?day={monday.isoformat()}")
    lane = staff.locator(".lane", has=staff.get_by_role("heading", name="Marcus Reed"))
    visit = lane.locator(f"#wo-{order['id']}")
    expect(visit).to_contain_text("Projector check")
    expect(visit).to_contain_text(f"Product: Sony {model}")
    expect(visit).to_contain_text("Room: Cinema")
    expect(visit).to_contain_text(time_label)
    expect(visit).to_contain_text(WHAT)
    visit.scroll_into_view_if_needed()
    both_widths(staff, "demo-visit-dispatch")

    # -- his ICS feed includes it ----------------------------------------------
    marcus = next(
        t
        for t in _ok(suite.api.get("/api/v1/technicians"))["technicians"]
        if t["full_name"] == "Marcus Reed"
    )
    staff.goto(f"{base}/console/technicians")
    staff.locator(f"#tech-{marcus['staff_user_id']}").get_by_role(
        "button", name=re.compile("Issue a (new )?feed URL")
    ).click()
    feed_url = staff.locator("#feed-url").inner_text().strip()
    assert feed_url.endswith(".ics"), feed_url
    shot(staff, "demo-visit-feed")
    uid = uid_for("work-order", order["id"])
    (event,) = [e for e in _feed_events(suite, feed_url) if str(e["UID"]) == uid]
    assert event.decoded("DTSTART") == start
    assert "Projector check" in str(event["SUMMARY"])
    assert str(event["STATUS"]) in ("CONFIRMED", "TENTATIVE")

    # -- Jane cancels before the cut-off: the time is offered again -------------
    client.goto(f"{base}/visits")
    card = client.locator(f"#visit-{booking_id}")
    card.get_by_text("Cancel this visit").click()
    shot(client, "demo-visit-cancel")
    card.get_by_role("button", name="Cancel the visit").click()
    expect(client.get_by_text("Your visit is cancelled; the time is free again.")).to_be_visible()
    expect(client.locator(f"#visit-{booking_id}")).to_have_class(re.compile("visit-cancelled"))
    both_widths(client, "demo-visit-cancelled")
    assert starts_at in _offered(client, day_url), f"{time_label} not offered again"
    shot(client, "demo-visit-offered-again")
    again = [e for e in _feed_events(suite, feed_url) if str(e["UID"]) == uid]
    assert all(str(e["STATUS"]) == "CANCELLED" for e in again), again
