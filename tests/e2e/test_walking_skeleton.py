"""The foundation's flow, every process separate: a staff API token lists
projects through gateway -> identity -> projects; a stage move commits with its
event; notifications emails the client through SMTP."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
from portal.identity.v1 import identity_pb2 as ipb
from portal.identity.v1 import identity_pb2_grpc
from portal.projects.v1 import projects_pb2 as ppb
from portal.projects.v1 import projects_pb2_grpc

from services.chassis.auth import Principal, PrincipalSigner
from services.chassis.grpc_client import Caller, open_channel
from tests.suite import wait_for

pytestmark = pytest.mark.e2e
PROBLEM = "application/problem+json"


async def mails_with(mail, subject_part: str, to: str | None = None) -> list[dict]:
    msgs = (await mail.get("/messages")).json()
    return [
        m
        for m in msgs
        if subject_part in m["subject"] and (to is None or to in ",".join(m["rcpt_tos"]))
    ]


async def new_project(running, gw, name: str) -> dict:
    r = await gw.post(
        "/api/v1/projects",
        headers=running.headers(),
        json={
            "name": name,
            "customer_id": running.info["demo_customer_id"],
            "site_address": "1 Test Street",
        },
    )
    assert r.status_code == 201, r.text
    return r.json()


async def test_staff_token_lists_projects_from_the_projects_service(running, gw):
    # Page through: other tests add projects of their own, newer than the demo's.
    found, token = [], ""
    for _ in range(50):
        r = await gw.get(
            f"/api/v1/projects?page_size=100&page_token={token}", headers=running.headers()
        )
        assert r.status_code == 200, r.text
        found += [p for p in r.json()["projects"] if p["id"] == running.info["demo_project_id"]]
        token = r.json()["next_page_token"]
        if found or not token:
            break
    (demo,) = found
    assert demo["name"] == "Home cinema & whole-home audio"
    assert demo["reference"].startswith("PRJ-")


async def test_without_a_token_the_api_answers_401_problem(running, gw):
    r = await gw.get("/api/v1/projects", headers=running.headers(token=False))
    assert r.status_code == 401
    assert r.headers["content-type"].startswith(PROBLEM)
    assert r.headers["www-authenticate"].startswith("Bearer")
    body = r.json()
    assert body["status"] == 401 and body["detail"]


async def test_a_wrong_token_is_refused(running, gw):
    r = await gw.get("/api/v1/projects", headers=running.headers(token="pat_not-a-real-token"))
    assert r.status_code == 401


async def test_an_unknown_host_gets_404(running, gw):
    r = await gw.get("/api/v1/projects", headers=running.headers(host="nobody.localhost"))
    assert r.status_code == 404
    assert r.headers["content-type"].startswith(PROBLEM)
    page = await gw.get("/", headers={"Host": "nobody.localhost"})
    assert page.status_code == 404 and "Acme" not in page.text


async def test_stage_move_emails_every_contact_of_the_client(running, gw, mail):
    project = await new_project(running, gw, f"Kitchen audio {uuid.uuid4().hex[:6]}")
    r = await gw.post(
        f"/api/v1/projects/{project['id']}/stage",
        headers=running.headers(),
        json={"stage": "commissioning", "client_note": "Calibration on Friday."},
    )
    assert r.status_code == 200, r.text
    assert r.json()["stage"] == "commissioning"

    subject = f"{project['name']}: now in Commissioning"
    msgs = await wait_for(lambda: _both(mail, subject))
    jane = next(m for m in msgs if "jane.harrison@example.com" in m["rcpt_tos"])
    assert "Calibration on Friday." in jane["text"]
    assert "Acme Home Cinema" in jane["headers"]["From"]


async def _both(mail, subject):
    msgs = await mails_with(mail, subject)
    return msgs if len(msgs) >= 2 else None


async def test_double_click_with_one_idempotency_key_moves_once(running, gw, mail):
    project = await new_project(running, gw, f"Media room {uuid.uuid4().hex[:6]}")
    headers = {**running.headers(), "Idempotency-Key": str(uuid.uuid4())}
    url = f"/api/v1/projects/{project['id']}/stage"
    first, second = await asyncio.gather(
        gw.post(url, headers=headers, json={"stage": "procurement"}),
        gw.post(url, headers=headers, json={"stage": "procurement"}),
    )
    assert {first.status_code, second.status_code} == {200}
    subject = f"{project['name']}: now in Procurement"
    await wait_for(lambda: _both(mail, subject))
    await asyncio.sleep(1.0)  # time for a second email, were one coming
    assert len(await mails_with(mail, subject)) == 2  # one per contact, not two each


async def test_bad_inputs_get_problem_details_a_person_can_act_on(running, gw):
    pid = running.info["demo_project_id"]
    url = f"/api/v1/projects/{pid}/stage"
    r = await gw.post(url, headers=running.headers(), json={"stage": "banana"})
    assert r.status_code == 422 and r.headers["content-type"].startswith(PROBLEM)
    assert any("stage" in json.dumps(e) for e in r.json()["errors"])

    r = await gw.post(url, headers=running.headers(), json={"stage": "design"})
    assert r.status_code == 422
    assert "reason" in r.json()["detail"]

    r = await gw.get("/api/v1/projects/not-a-uuid", headers=running.headers())
    assert r.status_code == 422

    r = await gw.get(f"/api/v1/projects/{uuid.uuid4()}", headers=running.headers())
    assert r.status_code == 404 and r.headers["content-type"].startswith(PROBLEM)

    current = (await gw.get(f"/api/v1/projects/{pid}", headers=running.headers())).json()
    r = await gw.post(url, headers=running.headers(), json={"stage": current["stage"]})
    assert r.status_code == 409 and "already" in r.json()["detail"]


async def make_tenant(running, slug: str) -> tuple[str, str]:
    """Onboard another integrator over gRPC; returns (tenant id, staff token)."""
    call = Caller(PrincipalSigner(running.suite.private_key))
    async with open_channel(running.suite.target("identity")) as ch:
        stub = identity_pb2_grpc.IdentityServiceStub(ch)
        tenant = (
            await call(
                stub.CreateTenant,
                ipb.CreateTenantRequest(
                    slug=slug, display_name=slug.title(), time_zone="Europe/London", currency="GBP"
                ),
                Principal(kind="platform", subject="test"),
            )
        ).tenant
        as_tenant = Principal(kind="platform", subject="test", tenant_id=tenant.id)
        user = (
            await call(
                stub.CreateStaffUser,
                ipb.CreateStaffUserRequest(
                    email=f"boss@{slug}.example", full_name="Boss", roles=[ipb.STAFF_ROLE_OWNER]
                ),
                as_tenant,
            )
        ).user
        token = (
            await call(
                stub.IssueApiToken, ipb.IssueApiTokenRequest(user_id=user.id, name="t"), as_tenant
            )
        ).secret
    return tenant.id, token


async def test_tenants_are_isolated(running, gw):
    slug = f"globex{uuid.uuid4().hex[:6]}"
    _, token = await make_tenant(running, slug)
    other_host = f"{slug}.localhost"
    # Globex sees none of Acme's projects, and cannot fetch one by id.
    r = await gw.get("/api/v1/projects", headers=running.headers(token=token, host=other_host))
    assert r.status_code == 200 and r.json()["projects"] == []
    pid = running.info["demo_project_id"]
    r = await gw.get(
        f"/api/v1/projects/{pid}", headers=running.headers(token=token, host=other_host)
    )
    assert r.status_code == 404
    r = await gw.post(
        f"/api/v1/projects/{pid}/stage",
        headers=running.headers(token=token, host=other_host),
        json={"stage": "handover"},
    )
    assert r.status_code == 404
    # Globex's token is worthless at Acme's host, and Acme's at Globex's.
    assert (
        await gw.get("/api/v1/projects", headers=running.headers(token=token))
    ).status_code == 401
    r = await gw.get("/api/v1/projects", headers=running.headers(host=other_host))
    assert r.status_code == 401


async def test_projects_refuses_a_call_without_a_valid_principal(running):
    import grpc

    async with open_channel(running.suite.target("projects")) as ch:
        stub = projects_pb2_grpc.ProjectsServiceStub(ch)
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.ListProjects(ppb.ListProjectsRequest(), timeout=5)
        assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.ListProjects(
                ppb.ListProjectsRequest(),
                timeout=5,
                metadata=(("authorization", "Bearer forged.token.here"),),
            )
        assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
        signed = Caller(PrincipalSigner(running.suite.private_key)).metadata(
            Principal(kind="staff", subject="x", tenant_id=str(uuid.uuid4()))
        )
        with pytest.raises(grpc.aio.AioRpcError) as err:  # no deadline: refused
            await stub.ListProjects(ppb.ListProjectsRequest(), metadata=signed)
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_a_customer_can_be_created_before_its_contacts(running, gw):
    r = await gw.post(
        "/api/v1/customers",
        headers=running.headers(),
        json={"name": f"Empty {uuid.uuid4().hex[:6]}", "contacts": []},
    )
    assert r.status_code == 201, r.text
    assert r.json()["contacts"] == []
    again = await gw.get(f"/api/v1/customers/{r.json()['id']}", headers=running.headers())
    assert again.status_code == 200 and again.json()["contacts"] == []


async def test_a_purged_integrators_host_gets_the_plain_404(running, gw):
    import asyncpg

    slug = f"gone{uuid.uuid4().hex[:6]}"
    tenant_id, _ = await make_tenant(running, slug)
    # The platform's purge marks the tenant (there is no self-service purge).
    admin = running.suite.postgres.admin_url.rsplit("/", 1)[0] + "/identity"
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(
            "UPDATE tenant SET purged_at = now() WHERE id = $1", uuid.UUID(tenant_id)
        )
    finally:
        await conn.close()
    page = await gw.get("/", headers={"Host": f"{slug}.localhost"})
    assert page.status_code == 404 and slug.title() not in page.text
    api = await gw.get("/api/v1/tenant", headers={"Host": f"{slug}.localhost"})
    assert api.status_code == 404
