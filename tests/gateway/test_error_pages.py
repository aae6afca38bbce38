"""Error pages keep the portal's navigation: a client sees the client's, staff
the console's, a visitor a plain way to the sign-in page (identity and
projects are in-process fakes)."""

from __future__ import annotations

import re

import pytest

from gateway.app import create_app
from tests.gateway import project_fakes as F
from tests.gateway.conftest import acme, client_with_tenant

NAV = re.compile(r'<nav class="site-nav".*?</nav>', re.S)


@pytest.fixture
async def fakes(keypair):
    async with F.fake_services(keypair[1]) as running:
        yield running


async def page(settings, fakes, path: str, session=None):
    fakes.identity.session = session
    app = create_app(
        settings.model_copy(
            update={
                "identity_target": fakes.identity_target,
                "projects_target": fakes.projects_target,
            }
        )
    )
    cookies = {"portal_session": "good-session"} if session is not None else None
    async with client_with_tenant(app, acme(), cookies=cookies) as client:
        return await client.get(path)


def nav_links(html: str) -> list[str]:
    match = NAV.search(html)
    return re.findall(r'href="([^"]+)"', match.group(0)) if match else []


async def test_a_clients_404_keeps_the_client_navigation(settings, fakes) -> None:
    r = await page(settings, fakes, "/no-such-page", F.client_session())
    assert r.status_code == 404 and "Not found" in r.text
    assert nav_links(r.text) == ["/projects", "/invoices", "/visits", "/documents", "/account"]
    assert "Jane Harrison &amp; Co?" in r.text and 'action="/sign-out"' in r.text
    assert 'href="/home">Go to your portal' in r.text


async def test_a_staff_404_keeps_the_console_navigation(settings, fakes) -> None:
    r = await page(settings, fakes, "/console/no-such-page", F.staff_session())
    assert r.status_code == 404
    links = nav_links(r.text)
    assert links[:4] == ["/console", "/console/projects", "/console/dispatch", "/console/branding"]
    assert 'href="/console">Go to the console' in r.text and "Sam Lee" in r.text


async def test_a_refusal_a_page_raised_keeps_the_navigation_too(settings, fakes) -> None:
    # A client opening the console: 403, in their own portal's layout.
    r = await page(settings, fakes, "/console/projects", F.client_session())
    assert r.status_code == 403 and "This page is for staff" in r.text
    assert nav_links(r.text) == ["/projects", "/invoices", "/visits", "/documents", "/account"]
    # A project the service does not show a client: its 404 (NOT_FOUND from projects).
    r = await page(
        settings, fakes, "/projects/7d1f0a8e-0000-4000-8000-000000000000", F.client_session()
    )
    assert r.status_code == 404 and "/documents" in nav_links(r.text)


async def test_a_visitors_404_has_no_navigation_and_a_plain_way_home(settings, fakes) -> None:
    r = await page(settings, fakes, "/no-such-page")
    assert r.status_code == 404
    assert nav_links(r.text) == [] and 'action="/sign-out"' not in r.text
    assert 'href="/">Go to the sign-in page' in r.text
