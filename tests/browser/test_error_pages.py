"""Error pages and onboarding in a real browser, on a phone and a desktop: a
404 keeps the client's navigation for a client and the console's for staff,
and a visitor gets a plain way to the sign-in page; a newly onboarded
integrator's owner follows the emailed invite into the console.
Screenshots: error-404-client, error-404-staff, error-404-visitor,
continue-staff-invite, onboarded-console (each -390 and -1280)."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import PASSWORD, Suite, shot

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


def sign_in(page: Page, base: str, email: str, password: str) -> None:
    page.goto(base + "/")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_a_404_keeps_each_persons_navigation(page: Page, suite: Suite) -> None:
    page.goto(suite.base + "/no-such-page")
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    expect(page.get_by_role("navigation", name="Main")).to_have_count(0)
    expect(page.get_by_role("link", name="Go to the sign-in page")).to_be_visible()
    shot(page, "error-404-visitor")

    *_, link = suite.invited_contact()
    page.goto(link)
    page.get_by_label("New password").fill(PASSWORD)
    page.get_by_label("Type it again").fill(PASSWORD)
    page.get_by_role("button", name="Set password and continue").click()
    expect(page).to_have_url(re.compile(r"/home$"))
    page.goto(suite.base + "/no-such-page")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Documents")).to_be_visible()
    expect(nav.get_by_role("link", name="Branding")).to_have_count(0)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    shot(page, "error-404-client")
    page.get_by_role("link", name="Go to your portal").click()
    expect(page).to_have_url(re.compile(r"/home$"))
    page.get_by_role("button", name="Sign out").click()

    info = suite.running.info
    sign_in(page, suite.base, info["staff_email"], suite.staff_password())
    expect(page).to_have_url(re.compile(r"/console$"))
    page.goto(suite.base + "/console/no-such-page")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Branding")).to_be_visible()
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    shot(page, "error-404-staff")


def test_an_onboarded_integrators_owner_follows_the_invite(page: Page, suite: Suite) -> None:
    running = suite.running
    slug, owner = f"br{uuid.uuid4().hex[:8]}", f"sam.okafor@{uuid.uuid4().hex[:6]}.example"
    before = suite.newest_mail_id()
    created = suite.api.post(
        "/api/v1/platform/tenants",
        json={"slug": slug, "name": "Brightwave AV", "owner_email": owner},
        headers={
            "Host": f"localhost:{running.suite.ports['gateway']}",
            "Authorization": f"Bearer {running.info['platform_token']}",
        },
    )
    assert created.status_code == 201, created.text
    page.goto(suite.link_for(owner, after=before))
    expect(page.get_by_role("heading", name="Set your password")).to_be_visible()
    expect(page.get_by_text("staff console of Brightwave AV's client portal")).to_be_visible()
    shot(page, "continue-staff-invite")
    page.get_by_label("New password").fill(PASSWORD)
    page.get_by_label("Type it again").fill(PASSWORD)
    page.get_by_role("button", name="Set password and continue").click()
    expect(page).to_have_url(re.compile(rf"//{slug}\.localhost:\d+/console$"))
    expect(page.get_by_text("Your password is set. Welcome to your console.")).to_be_visible()
    shot(page, "onboarded-console")
