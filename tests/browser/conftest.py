"""Browser tests: headless Chromium (Debian's, driven by Playwright) against the
whole suite, started once for this directory exactly as tests/e2e does.

Skipped only where /usr/bin/chromium is missing and CI is not "true": in CI
they must run."""

from __future__ import annotations

import os
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.suite import Running

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parent.parent / "screenshots"
VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}
LINK = re.compile(r"http://[a-z0-9-]+\.localhost:\d+/continue\?token=[A-Za-z0-9_\-.~%]+")
PASSWORD = "correct horse battery staple 42"


# A developer machine without Debian's Chromium skips the browser tests; CI
# installs it (`make browser`) and runs them, so there a missing one fails.
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists() and os.environ.get("CI") != "true",
    reason=f"{CHROMIUM} is not installed (apt-get install chromium; CI installs it)",
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives headless Chromium against the suite")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if CHROMIUM.exists() or os.environ.get("CI") == "true":
        return
    skip = pytest.mark.skip(reason=f"{CHROMIUM} is not installed (apt-get install chromium)")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="module")
def chromium(suite: Suite) -> Iterator:
    # After the suite: sync Playwright keeps an event loop running, and the
    # suite's seeding uses asyncio.run. Module scope: it must be gone before
    # the async tests of other modules run on pytest-asyncio's loop.
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture(params=sorted(VIEWPORTS), ids=sorted(VIEWPORTS))
def page(request: pytest.FixtureRequest, chromium) -> Iterator:
    context = chromium.new_context(viewport=VIEWPORTS[request.param], locale="en-US")
    context.set_default_timeout(15_000)
    pg = context.new_page()
    yield pg
    context.close()


def shot(page, name: str) -> Path:
    """tests/screenshots/<name>-<width>.png, the whole page."""
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}-{page.viewport_size['width']}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


# -- the suite, by plain HTTP ---------------------------------------------------------


class Suite:
    """API calls with the staff token, and the SMTP sink's mailbox."""

    def __init__(self, running: Running) -> None:
        self.running = running
        self.base = running.info["demo_url"]
        self.api = httpx.Client(
            base_url=running.suite.gateway_url,
            headers=running.headers(),
            timeout=15,
            trust_env=False,
        )
        self.mail = httpx.Client(base_url=running.suite.mail_url, timeout=5, trust_env=False)

    def newest_mail_id(self) -> int:
        return max((m["id"] for m in self.mail.get("/messages").json()), default=0)

    def link_for(self, email: str, *, after: int, timeout: float = 20) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for m in self.mail.get("/messages", params={"to": email}).json():
                match = m["id"] > after and LINK.search(m["text"] or "")
                if match:
                    return match.group(0)
            time.sleep(0.1)
        raise AssertionError(f"no link emailed to {email}")

    def invited_contact(self, role: str = "approver") -> tuple[str, dict, str]:
        """A new customer with one contact, invited: (customer id, contact, link)."""
        tag = uuid.uuid4().hex[:6]
        r = self.api.post(
            "/api/v1/customers",
            json={
                "name": f"The {tag.title()} Residence",
                "contacts": [
                    {"email": f"jane-{tag}@example.com", "full_name": "Jane Harrison", "role": role}
                ],
            },
        )
        assert r.status_code == 201, r.text
        customer, contact = r.json(), r.json()["contacts"][0]
        before = self.newest_mail_id()
        invited = self.api.post(
            f"/api/v1/customers/{customer['id']}/contacts/{contact['id']}/invite"
        )
        assert invited.status_code == 202, invited.text
        return customer["id"], contact, self.link_for(contact["email"], after=before)

    def staff_password(self) -> str:
        """The demo owner's password: the seed's, or one set through a reset link."""
        info = self.running.info
        if info.get("staff_password"):
            return info["staff_password"]
        before = self.newest_mail_id()
        r = self.api.post(
            "/api/v1/auth/password-reset",
            json={"email": info["staff_email"]},
        )
        assert r.status_code == 202, r.text
        link = self.link_for(info["staff_email"], after=before)
        token = parse_qs(urlsplit(link).query)["token"][0]
        redeemed = self.api.post(
            f"/api/v1/auth/tokens/{token}/redeem",
            json={"new_password": PASSWORD},
        )
        assert redeemed.status_code == 200, redeemed.text
        info["staff_password"] = PASSWORD
        return PASSWORD


@pytest.fixture(scope="session")
def suite(running: Running) -> Iterator[Suite]:
    s = Suite(running)
    yield s
    s.api.close()
    s.mail.close()
