"""What the gateway adds for the signed PDF: the tenant's letterhead on signing
and on download, and the signer's email and customer from their session."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from portal.common.v1 import common_pb2

from gateway.api.tenant import public_tenant
from tests.gateway import project_fakes as F
from tests.gateway.conftest import acme
from tests.gateway.test_project_pages import PROPOSAL, browser, calls, csrf_of

# The gateway's test tenant (tests/gateway/conftest.py `acme`), as a letterhead.
LETTERHEAD = common_pb2.Letterhead(
    integrator_name="Acme Home Cinema",
    contact_email="studio@acme.example",
    time_zone="America/New_York",
)


@pytest.fixture
async def fakes(keypair) -> AsyncIterator[F.Fakes]:
    async with F.fake_services(keypair[1]) as running:
        yield running


async def test_signing_on_the_page_and_through_the_api_carries_who_and_the_letterhead(
    settings, fakes
) -> None:
    async with browser(settings, fakes) as client:
        token = await csrf_of(client, PROPOSAL)
        await client.post(
            f"{PROPOSAL}/{F.SENT_ID}/accept",
            data={
                "csrf_token": token,
                "signer_name": "Jane Harrison",
                "consent": "1",
                "content_sha256": F.HASH,
            },
        )
        csrf = (await client.get("/api/v1/me")).json()["csrf_token"]
        r = await client.post(
            f"/api/v1/proposals/{F.SENT_ID}/accept",
            json={"signer_name": "Jane Harrison", "consent": True, "content_sha256": F.HASH},
            headers={"X-CSRF-Token": csrf},
        )
        assert r.status_code == 200, r.text
    sent = [request for request, _ in calls(fakes, "AcceptProposal")]
    assert len(sent) == 2
    for request in sent:
        assert request.signer_email == "jane@example.com"
        assert request.client_name == "The Harrison Residence"
        assert request.letterhead == LETTERHEAD


async def test_the_signed_pdf_is_asked_for_in_the_tenants_letterhead(settings, fakes) -> None:
    async with browser(settings, fakes) as client:
        await client.get(f"/api/v1/proposals/{F.SENT_ID}/pdf")
        await client.get(f"{PROPOSAL}/{F.SENT_ID}/pdf")
    asked = [request for request, _ in calls(fakes, "GetSignedProposalPdf")]
    assert len(asked) == 2
    assert all(request.letterhead == LETTERHEAD for request in asked)


def test_the_tenant_answers_its_postal_address_and_website() -> None:
    tenant = acme(postal_address="418 Hudson Street\nNew York, NY 10014")
    body = public_tenant(tenant).model_dump(mode="json")
    assert body["branding"]["postal_address"] == "418 Hudson Street\nNew York, NY 10014"
    assert body["branding"]["website"] is None  # unset reads null, like the rest
