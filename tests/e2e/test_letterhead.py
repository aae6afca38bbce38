"""The integrator's postal address and website, set in the staff console's
branding form and through `PATCH /api/v1/tenant`, every process separate."""

from __future__ import annotations

import uuid

import pytest

from tests.e2e.test_front_door import staff_browser

pytestmark = pytest.mark.e2e
SEEDED = "418 Hudson Street, Suite 2\nNew York, NY 10014"


async def test_staff_set_the_address_on_the_branding_page_and_the_api(running, gw, mail):
    before = (await gw.get("/api/v1/tenant", headers=running.headers(token=False))).json()
    assert before["branding"]["postal_address"] == SEEDED  # the demo seed's
    assert before["branding"]["website"] == "https://acme-av.example"
    street = f"{uuid.uuid4().hex[:4]} Canal Street"
    fields = {k: v or "" for k, v in before["branding"].items()}
    fields |= {
        "display_name": before["display_name"],
        "time_zone": before["time_zone"],
        "currency": before["currency"],
        "postal_address": f"{street}\r\nNew York, NY 10013",
        "website": "https://www.acme-av.example",
    }
    async with await staff_browser(running, mail) as staff:
        page = await staff.get("/console/branding")
        assert "418 Hudson Street, Suite 2\nNew York, NY 10014</textarea>" in page.text
        saved = await staff.submit("/console/branding", "/console/branding", fields)
        assert saved.status_code == 303, saved.text
    try:
        after = (await gw.get("/api/v1/tenant", headers=running.headers(token=False))).json()
        assert after["branding"]["postal_address"] == f"{street}\nNew York, NY 10013"
        assert after["branding"]["website"] == "https://www.acme-av.example"
        assert after["branding"]["headline"] == before["branding"]["headline"]  # kept
    finally:
        restored = await gw.patch(
            "/api/v1/tenant",
            headers=running.headers(),
            json={"branding": {"postal_address": SEEDED, "website": "https://acme-av.example"}},
        )
    assert restored.status_code == 200, restored.text
    assert restored.json()["branding"]["postal_address"] == SEEDED
