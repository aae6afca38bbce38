"""What the demo client reads, in a real browser on a phone and a desktop:
their signed proposal without the fingerprint, their documents, and a
document that is not there for them explained in plain words.

Screenshots: tests/screenshots/proposal-signed-{390,1280}.png,
client-documents-{390,1280}.png, document-not-found-{390,1280}.png."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Page, expect

import deploy.suite
from tests.browser.conftest import Suite, shot
from tests.gateway.test_client_words import technical_words

pytestmark = [
    pytest.mark.browser,
    pytest.mark.e2e,
    pytest.mark.skipif(
        "documents" not in deploy.suite.SERVICES, reason="the suite has no documents service"
    ),
]
CLIENT_EMAIL = "jane.harrison@example.com"


def sign_in_as_jane(page: Page, suite: Suite) -> None:
    info = suite.running.info
    login = next(c for c in info["client_logins"] if c["email"] == CLIENT_EMAIL)
    page.goto(info["demo_url"] + "/")
    page.get_by_label("Email address").fill(CLIENT_EMAIL)
    page.get_by_label("Password").fill(login["password"])
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/(home|projects/[0-9a-f-]+)$"))


def test_the_client_reads_plain_words_on_their_proposal_and_documents(
    page: Page, suite: Suite
) -> None:
    base = suite.running.info["demo_url"]
    project_id = suite.running.info["demo_project_id"]
    width = page.viewport_size["width"]
    sign_in_as_jane(page, suite)

    page.goto(f"{base}/projects/{project_id}/proposal")
    expect(page.get_by_role("heading", name="Signed and accepted")).to_be_visible()
    assert technical_words(page.content()) == []
    assert "fingerprint" not in page.inner_text("body").lower()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    shot(page, "proposal-signed")

    page.goto(f"{base}/projects/{project_id}/documents")
    expect(page.get_by_role("heading", name="Documents", level=1)).to_be_visible()
    assert technical_words(page.content()) == []
    shot(page, "client-documents")

    response = page.goto(f"{base}/projects/{project_id}/documents/{uuid.uuid4()}/download")
    assert response is not None and response.status == 404
    expect(page.get_by_text("This document isn't available")).to_be_visible()
    assert technical_words(page.content()) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    shot(page, "document-not-found")


def test_the_main_nav_is_one_row_with_the_current_place_in_view(page: Page, suite: Suite) -> None:
    """On a phone the client's five places are one row that scrolls sideways
    (they wrapped to two uneven rows), the page itself never wider than the
    screen, and on the last place (Account) that place is scrolled into view."""
    base = suite.running.info["demo_url"]
    width = page.viewport_size["width"]
    sign_in_as_jane(page, suite)
    for path, label in (("/invoices", "Invoices"), ("/account", "Account")):
        page.goto(base + path)
        nav = page.get_by_role("navigation", name="Main")
        current = nav.get_by_role("link", name=label, exact=True)
        expect(current).to_have_attribute("aria-current", "page")
        items = nav.get_by_role("listitem")
        tops = {round(items.nth(i).bounding_box()["y"]) for i in range(items.count())}
        assert len(tops) == 1, tops  # one row, at any width
        box = current.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, box
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    shot(page, "client-nav-account")
