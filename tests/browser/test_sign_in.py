"""Signing in with a real browser, on a phone and on a desktop: a client
accepts an invite, lands on their portal, opens their account and signs out;
staff sign in to the console, manage a customer and view their portal.
Each page is screenshotted to tests/screenshots/<name>-<width>.png."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import PASSWORD, Suite, shot

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


def test_a_client_accepts_an_invite_and_signs_in(page: Page, suite: Suite) -> None:
    page.goto(suite.base + "/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_text("Powered by Integrator Portal")).to_be_visible()
    shot(page, "splash")

    customer_id, contact, link = suite.invited_contact()
    page.goto(link)
    expect(page.get_by_role("heading", name="Set your password")).to_be_visible()
    expect(page.get_by_text(contact["email"])).to_be_visible()
    shot(page, "continue")
    page.get_by_label("New password").fill(PASSWORD)
    page.get_by_label("Type it again").fill(PASSWORD)
    page.get_by_role("button", name="Set password and continue").click()

    expect(page).to_have_url(re.compile(r"/home$"))
    expect(page.get_by_role("heading", name="Hello, Jane")).to_be_visible()
    expect(page.get_by_text("Your password is set. Welcome to your portal.")).to_be_visible()
    expect(page.get_by_text("There are no projects here yet.")).to_be_visible()
    shot(page, "home")

    page.get_by_role("link", name="Account").click()
    expect(page).to_have_url(re.compile(r"/account$"))
    expect(page.get_by_role("heading", name="Where you're signed in")).to_be_visible()
    expect(page.get_by_text("This device")).to_be_visible()
    shot(page, "account")

    # Archived: the portal stays readable, under a read-only banner.
    assert suite.api.post(
        f"/api/v1/customers/{customer_id}/access", json={"state": "archived"}
    ).is_success
    page.goto(suite.base + "/home")
    expect(page.get_by_text("Read-only:")).to_be_visible()
    shot(page, "home-archived")

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_text("You're signed out.")).to_be_visible()
    page.goto(suite.base + "/home")
    expect(page).to_have_url(re.compile(r"/$"))  # the session is gone


def test_a_wrong_password_is_explained_next_to_the_form(page: Page, suite: Suite) -> None:
    page.goto(suite.base + "/")
    page.get_by_label("Email address").fill("nobody@example.com")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    shot(page, "sign-in-error")


def test_staff_sign_in_to_the_console_and_view_a_clients_portal(page: Page, suite: Suite) -> None:
    info = suite.running.info
    page.goto(suite.base + "/")
    page.get_by_label("Email address").fill(info["staff_email"])
    page.get_by_label("Password").fill(suite.staff_password())
    page.get_by_role("button", name="Sign in").click()

    expect(page).to_have_url(re.compile(r"/console$"))
    expect(page.get_by_role("heading", name="Customers", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="The Harrison Residence", exact=True)).to_be_visible()
    shot(page, "console")

    page.get_by_role("link", name="The Harrison Residence", exact=True).click()
    expect(page.get_by_role("heading", name="The Harrison Residence", exact=True)).to_be_visible()
    expect(page.get_by_text("jane.harrison@example.com")).to_be_visible()
    shot(page, "customer")

    page.get_by_role("link", name="Archive…").click()
    expect(page.get_by_role("heading", name="Archive The Harrison Residence?")).to_be_visible()
    shot(page, "confirm-archive")
    page.get_by_role("link", name="Cancel").click()

    page.get_by_role("button", name="View portal as this client").click()
    # Home, or the status board when the customer has just the one project.
    expect(page).to_have_url(re.compile(r"/(home|projects/[0-9a-f-]+)$"))
    expect(page.get_by_text("Client view:")).to_be_visible()
    expect(page.get_by_text("Home cinema & whole-home audio")).to_be_visible()
    shot(page, "view-as")
    page.get_by_role("button", name="Exit client view").click()
    expect(page).to_have_url(re.compile(r"/console/customers/"))

    page.get_by_role("link", name="Branding").click()
    expect(page.get_by_label("Display name")).to_have_value(re.compile("Acme"))
    shot(page, "branding")

    page.get_by_role("link", name="API tokens").click()
    page.get_by_label("Name").fill("Browser test")
    page.get_by_role("button", name="Issue token").click()
    expect(page.get_by_text("Copy it now")).to_be_visible()
    shot(page, "tokens")

    page.get_by_role("link", name="Security").click()
    page.get_by_role("button", name="Start setup").click()
    expect(page.get_by_text("otpauth://")).to_be_attached()
    shot(page, "security")
