"""What a probe found answered 500, through the whole suite (every process
separate, the gateway behind real HTTP): each is now a 4xx problem that says
what to fix, and a gRPC caller that skips the gateway gets INVALID_ARGUMENT.

- a NUL in the sign-in form, the sign-in API, and straight to identity;
- 2^63 as a product line's price;
- a project for a customer that is not this integrator's."""

from __future__ import annotations

import uuid

import grpc
import httpx
import pytest
from portal.identity.v1 import identity_pb2 as ipb
from portal.identity.v1 import identity_pb2_grpc

from services.chassis.auth import Principal, PrincipalSigner
from services.chassis.grpc_client import Caller, error_detail, open_channel
from tests.e2e.test_front_door import Browser, new_customer
from tests.suite import Running

pytestmark = pytest.mark.e2e
PROBLEM = "application/problem+json"


def fields_of(problem: dict) -> list[str]:
    return [e.get("field") for e in problem.get("errors", [])]


async def test_a_nul_in_sign_in_is_a_422_naming_the_email_everywhere(
    running: Running, gw: httpx.AsyncClient
) -> None:
    nul = "jane.harrison\x00@example.com"
    async with Browser(running) as browser:  # the sign-in form as a browser posts it
        page = await browser.submit("/", "/sign-in", {"email": nul, "password": "x"})
    assert page.status_code == 422, page.text
    assert "The email field cannot contain a NUL character (U+0000)" in page.text
    api = await gw.post(
        "/api/v1/auth/sign-in",
        headers=running.headers(token=False),
        json={"email": nul, "password": "portal-demo-2026"},
    )
    assert (api.status_code, api.headers["content-type"]) == (422, PROBLEM), api.text
    assert fields_of(api.json()) == ["email"]
    # Straight to identity, as a service that skipped the gateway would.
    gateway = Principal(kind="service", subject="gateway", tenant_id=running.info["tenant_id"])
    async with open_channel(running.suite.target("identity")) as channel:
        call = Caller(PrincipalSigner(running.suite.private_key))
        stub = identity_pb2_grpc.IdentityServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await call(stub.SignIn, ipb.SignInRequest(email=nul, password="x"), gateway)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error_detail(refused.value).field_violations[0].field == "email"


async def test_a_price_of_2_to_the_63_is_a_422_naming_it(
    running: Running, gw: httpx.AsyncClient
) -> None:
    room = running.info["demo_project_id"]
    rooms = await gw.get(f"/api/v1/projects/{room}/rooms", headers=running.headers())
    assert rooms.status_code == 200, rooms.text
    room_id = rooms.json()["rooms"][0]["id"]
    for price, field in ((2**63, "unit_price_minor"), (10**10 + 1, "unit_price_minor")):
        r = await gw.post(
            f"/api/v1/rooms/{room_id}/lines",
            headers=running.headers(),
            json={"model": "Overflow", "quantity": 1, "unit_price_minor": price},
        )
        assert (r.status_code, r.headers["content-type"]) == (422, PROBLEM), r.text
        assert fields_of(r.json()) == [field], r.json()


async def test_a_project_is_only_for_this_integrators_customer(
    running: Running, gw: httpx.AsyncClient
) -> None:
    customer_id, (contact,) = await new_customer(running, gw, "approver")
    for stranger in (str(uuid.uuid4()), contact["id"]):  # nobody, and a contact's id
        r = await gw.post(
            "/api/v1/projects",
            headers=running.headers(),
            json={"name": "Nobody's cinema", "customer_id": stranger},
        )
        assert (r.status_code, r.headers["content-type"]) == (422, PROBLEM), r.text
        assert fields_of(r.json()) == ["customer_id"]
    made = await gw.post(
        "/api/v1/projects",
        headers=running.headers(),
        json={"name": "A real cinema\r\n", "customer_id": customer_id},  # trailing: trimmed
    )
    assert made.status_code == 201, made.text
    listing = await gw.patch(
        f"/api/v1/projects/{made.json()['id']}",
        headers=running.headers(),
        json={"visible_contact_ids": [str(uuid.uuid4())]},
    )
    assert (listing.status_code, fields_of(listing.json())) == (422, ["visible_contact_ids"])
