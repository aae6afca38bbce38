"""The front door's limits through the whole suite (every process separate):
concurrent guesses at one account, the hourly cap on emailed links, and link
requests answered in the same time for registered and unknown addresses.

Each test onboards an integrator of its own: identity counts per client
address within a tenant, every request here comes from 127.0.0.1, and the
other front-door tests need the demo integrator's budget.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

import httpx
import pytest
from portal.identity.v1 import identity_pb2 as ipb
from portal.identity.v1 import identity_pb2_grpc

from services.chassis.auth import Principal, PrincipalSigner
from services.chassis.grpc_client import Caller, open_channel
from tests.e2e.test_front_door import PROBLEM, Browser, identity_call, mails_to, newest_mail_id
from tests.suite import Running, wait_for
from tests.timing import time_pairs

pytestmark = pytest.mark.e2e
PASSWORD = "correct horse battery staple 42"
CAPPED = "no more will be sent to it for about"


@dataclass
class Integrator:
    host: str
    tenant_id: str
    contacts: list[str]  # the customer's contacts' addresses

    @property
    def gateway(self) -> Principal:
        return Principal(kind="service", subject="gateway", tenant_id=self.tenant_id)


async def new_integrator(
    running: Running, contacts: int = 1, *, password: str = PASSWORD
) -> Integrator:
    """A tenant with one customer whose contacts have `password` ("" for none yet)."""
    slug = f"lim{uuid.uuid4().hex[:8]}"
    platform = Principal(kind="platform", subject="e2e")
    tenant = (
        await identity_call(
            running,
            "CreateTenant",
            ipb.CreateTenantRequest(
                slug=slug, display_name=f"{slug.title()} AV", time_zone="Europe/London"
            ),
            platform,
        )
    ).tenant
    emails = [f"c{i}-{slug}@example.com" for i in range(contacts)]
    await identity_call(
        running,
        "CreateCustomer",
        ipb.CreateCustomerRequest(
            name="The Limits Residence",
            contacts=[
                ipb.NewContact(
                    email=email,
                    full_name=f"Casey {i}",
                    role=ipb.CONTACT_ROLE_APPROVER,
                    initial_password=password,
                )
                for i, email in enumerate(emails)
            ],
        ),
        Principal(kind="platform", subject="e2e", tenant_id=tenant.id),
    )
    return Integrator(f"{slug}.localhost", tenant.id, emails)


async def test_forty_concurrent_guesses_at_one_account_get_exactly_five_password_checks(
    running,
):
    acme = await new_integrator(running)
    (email,) = acme.contacts
    async with Browser(running, host=acme.host) as b:
        answers = await asyncio.gather(
            *(
                b.client.post(
                    "/api/v1/auth/sign-in", json={"email": email, "password": f"guess {i}"}
                )
                for i in range(40)
            )
        )
        statuses = [r.status_code for r in answers]
        # A 401 is a password checked and wrong; a 429 was refused before checking.
        assert (statuses.count(401), statuses.count(429)) == (5, 35), statuses
        for r in answers:
            if r.status_code == 429:
                assert r.headers["content-type"] == PROBLEM
                assert 0 < int(r.headers["retry-after"]) <= 15 * 60
                assert r.json()["detail"].startswith("Too many sign-in attempts")
        right = await b.client.post(
            "/api/v1/auth/sign-in", json={"email": email, "password": PASSWORD}
        )
        assert right.status_code == 429 and b.session_cookie is None


async def test_past_the_link_cap_the_page_and_the_api_say_so_the_same_for_anyone(running, mail):
    acme = await new_integrator(running)
    (known,) = acme.contacts
    unknown = f"nobody-{uuid.uuid4().hex[:6]}@example.com"
    before = await newest_mail_id(mail)
    said = {}
    async with Browser(running, host=acme.host) as b:
        for email in (known, unknown):
            for _ in range(5):
                r = await b.client.post("/api/v1/auth/magic-link", json={"email": email})
                assert r.status_code == 202, r.text
            api = await b.client.post("/api/v1/auth/magic-link", json={"email": email})
            assert api.status_code == 429 and api.headers["content-type"] == PROBLEM
            wait = int(api.headers["retry-after"])
            assert 59 * 60 < wait <= 3600
            page = await b.submit("/sign-in/link", "/sign-in/link", {"email": email})
            assert page.status_code == 429 and int(page.headers["retry-after"]) > 59 * 60
            assert "alert-info" in page.text and "a link is on its way" not in page.text
            said[email] = (api.json()["detail"], page.text.count(CAPPED))
        reset = await b.client.post("/api/v1/auth/password-reset", json={"email": known})
        assert reset.status_code == 429  # one inbox, one cap
    (known_detail, known_on_page), (unknown_detail, unknown_on_page) = said.values()
    assert known_detail == unknown_detail and CAPPED in known_detail
    assert "about 60 minutes" in known_detail
    assert known_on_page == unknown_on_page == 1
    # What was accepted was sent: five links to the contact, none to the stranger.
    assert len(await wait_for(lambda: _mails(mail, known, before, 5))) == 5
    await asyncio.sleep(2)  # had a sixth been accepted, it would have been mailed by now
    assert len(await mails_to(mail, known, after=before)) == 5
    assert await mails_to(mail, unknown, after=before) == []


async def _mails(mail: httpx.AsyncClient, email: str, after: int, n: int) -> list | None:
    found = await mails_to(mail, email, after=after)
    return found if len(found) >= n else None


async def test_link_requests_are_answered_in_the_same_time_for_registered_and_unknown(running):
    """Against identity's own process as the gateway calls it (with its relay and
    consumer issuing the links meanwhile); distinct client addresses, because
    every request through the gateway here would come from 127.0.0.1."""
    samples = 200
    acme = await new_integrator(running, contacts=samples // 2, password="")
    unknown = [f"nobody{i}-{acme.host.split('.')[0]}@example.com" for i in range(samples // 2)]
    call = Caller(PrincipalSigner(running.suite.private_key))
    async with open_channel(running.suite.target("identity")) as channel:
        stub = identity_pb2_grpc.IdentityServiceStub(channel)

        async def ask(email: str, i: int) -> None:
            request = ipb.RequestMagicLinkRequest(
                email=email, client_ip=f"10.0.{i % 250}.{i // 250 + 9}"
            )
            await call(stub.RequestMagicLink, request, acme.gateway)

        await ask(unknown[0], 499)  # warm up: the channel, the principal token
        timings = await time_pairs(list(zip(acme.contacts, unknown, strict=True)), ask, seed="e2e")
    print(f"\n{timings}")
    assert abs(timings.gap) < timings.tolerance, str(timings)
