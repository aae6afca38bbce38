"""Past the hourly cap on emailed links, the page says so plainly, on a phone
and on a desktop (screenshotted to tests/screenshots/magic-link-capped-<width>.png).

On an integrator of its own: identity counts link requests per client address
within a tenant, and every request here comes from 127.0.0.1."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

import grpc
import httpx
import pytest
from playwright.sync_api import Page, expect
from portal.identity.v1 import identity_pb2 as ipb
from portal.identity.v1 import identity_pb2_grpc

from services.chassis.auth import Principal, PrincipalSigner
from services.chassis.grpc_client import Caller
from tests.browser.conftest import Suite, shot

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


def new_integrator_url(suite: Suite) -> str:
    """A fresh tenant's portal URL (created over gRPC, as onboarding does)."""
    slug = f"cap{uuid.uuid4().hex[:8]}"
    caller = Caller(PrincipalSigner(suite.running.suite.private_key))
    with grpc.insecure_channel(suite.running.suite.target("identity")) as channel:
        identity_pb2_grpc.IdentityServiceStub(channel).CreateTenant(
            ipb.CreateTenantRequest(slug=slug, display_name="Capstone AV", time_zone="UTC"),
            metadata=caller.metadata(Principal(kind="platform", subject="browser")),
            timeout=10,
        )
    port = urlsplit(suite.base).port
    return f"http://{slug}.localhost:{port}"


def test_past_the_link_cap_the_page_says_when_links_will_be_sent_again(
    page: Page, suite: Suite
) -> None:
    base = new_integrator_url(suite)
    email = f"someone-{uuid.uuid4().hex[:6]}@example.com"  # nobody's: the answer is the same
    host = urlsplit(base).netloc.split(":")[0]
    with httpx.Client(
        base_url=suite.running.suite.gateway_url, headers={"Host": host}, trust_env=False
    ) as anonymous:
        for _ in range(5):
            asked = anonymous.post("/api/v1/auth/magic-link", json={"email": email})
            assert asked.status_code == 202, asked.text

    page.goto(base + "/sign-in/link")
    page.get_by_label("Email address").fill(email)
    page.get_by_role("button", name="Email me a link").click()
    notice = page.get_by_role("alert")
    expect(notice).to_contain_text("We've had several requests for links to this address")
    expect(notice).to_contain_text("no more will be sent to it for about 60 minutes")
    expect(page.get_by_text("a link is on its way")).to_have_count(0)
    expect(page.get_by_label("Email address")).to_have_value(email)  # kept, to fix a typo
    shot(page, "magic-link-capped")
