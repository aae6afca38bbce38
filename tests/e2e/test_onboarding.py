"""Onboarding a new integrator against the real suite, every process separate:
`portal tenants create` (identity's OnboardTenant over gRPC, the suite's own
config) and the gateway's platform API. The owner's invitation arrives in the
SMTP sink; the owner follows it, sets a password and signs in on the new
subdomain."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid

import httpx
import pytest

from deploy.suite import ROOT
from tests.e2e.test_front_door import (
    PASSWORD,
    PROBLEM,
    Browser,
    link_for,
    mails_to,
    newest_mail_id,
    token_of,
)
from tests.suite import Running

pytestmark = pytest.mark.e2e
PLATFORM_PATH = "/api/v1/platform/tenants"


def new_slug(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


async def portal_cli(running: Running, *args: str) -> subprocess.CompletedProcess:
    """`portal ...` as an operator runs it, finding the suite from its data dir."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "deploy.cli", *args, "--data-dir", str(running.data_dir)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env=env,
    )


async def owner_signs_in(
    running: Running, mail: httpx.AsyncClient, slug: str, email: str, *, after: int
) -> None:
    """The invite email -> Continue -> a password -> the console; then a fresh
    browser signs in with that password on the integrator's own host."""
    link = await link_for(mail, email, after=after)
    assert f"http://{slug}.localhost:" in link  # the new integrator's own host
    host = f"{slug}.localhost"
    async with Browser(running, host=host) as browser:
        shown = await browser.get(f"/continue?token={token_of(link)}")
        assert "staff console" in shown.text and email in shown.text
        done = await browser.follow(link, password=PASSWORD)
        assert (done.status_code, done.headers["location"]) == (303, "/console"), done.text
        console = await browser.get("/console")
        assert console.status_code == 200 and 'href="/console/branding"' in console.text
        # Staff are the help line: the footer tells them what their clients see.
        assert "pages end with no help line yet" in console.text
        assert "Need help? Contact" not in console.text
    async with Browser(running, host=host) as fresh:
        signed_in = await fresh.submit("/", "/sign-in", {"email": email, "password": PASSWORD})
        assert (signed_in.status_code, signed_in.headers.get("location")) == (303, "/console")
        me = (await fresh.get("/api/v1/me")).json()
        assert (me["email"], me["kind"], me["roles"]) == (email, "staff", ["owner"]), me


async def test_the_cli_onboards_an_integrator_whose_owner_signs_in(running, mail) -> None:
    slug, owner = new_slug("cli"), f"sam.okafor@{new_slug('bw')}.example"
    before = await newest_mail_id(mail)
    done = await portal_cli(
        running,
        "tenants", "create", "--slug", slug, "--name", "Brightwave AV",
        "--owner-email", owner, "--time-zone", "Europe/London", "--currency", "gbp",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"Onboarded Brightwave AV at '{slug}'" in done.stdout
    assert f"Portal: http://{slug}.localhost:{running.suite.ports['gateway']}" in done.stdout
    assert "Sam Okafor <" in done.stdout and "Europe/London" in done.stdout and "GBP" in done.stdout

    await owner_signs_in(running, mail, slug, owner, after=before)
    (message,) = await mails_to(mail, owner, after=before)
    assert message["subject"] == "Brightwave AV: your client portal is ready"
    assert "staff console of Brightwave AV's client portal" in message["text"]

    # A retry answers the integrator made and sends nothing; a taken slug is refused.
    again = await portal_cli(
        running, "tenants", "create", "--slug", slug, "--name", "X", "--owner-email", owner
    )
    assert again.returncode == 0 and "already onboarded" in again.stdout, again.stderr
    taken = await portal_cli(
        running, "tenants", "create", "--slug", slug, "--name", "X", "--owner-email", "m@x.example"
    )
    assert taken.returncode == 1 and f"the subdomain '{slug}' is taken" in taken.stderr
    reserved = await portal_cli(
        running, "tenants", "create", "--slug", "platform", "--name", "X", "--owner-email", owner
    )
    assert (
        reserved.returncode == 1 and "reserved" in reserved.stderr and "(slug)" in reserved.stderr
    )
    await asyncio.sleep(1.5)  # time for a second email, were one sent
    assert len(await mails_to(mail, owner, after=before)) == 1


async def test_the_platform_api_onboards_on_the_platform_host_only(running, gw, mail) -> None:
    slug, owner = new_slug("api"), f"ops@{new_slug('av')}.example"
    platform = {"Host": f"localhost:{running.suite.ports['gateway']}"}
    token = {"Authorization": f"Bearer {running.info['platform_token']}"}
    body = {"slug": slug, "name": "Northlight Cinema", "owner_email": owner, "currency": "EUR"}
    before = await newest_mail_id(mail)

    anonymous = await gw.post(PLATFORM_PATH, json=body, headers=platform)
    assert (anonymous.status_code, anonymous.headers["content-type"]) == (401, PROBLEM)
    wrong = await gw.post(
        PLATFORM_PATH, json=body, headers=platform | {"Authorization": "Bearer plt_guess"}
    )
    assert wrong.status_code == 401 and wrong.json()["code"] == "invalid_token"
    on_tenant = await gw.post(
        PLATFORM_PATH, json=body, headers=running.headers(token=False) | token
    )
    assert (on_tenant.status_code, on_tenant.headers["content-type"]) == (404, PROBLEM)

    created = await gw.post(PLATFORM_PATH, json=body, headers=platform | token)
    assert created.status_code == 201, created.text
    answer = created.json()
    assert answer["created"] and answer["slug"] == slug and answer["currency"] == "EUR"
    assert answer["portal_url"] == f"http://{slug}.localhost:{running.suite.ports['gateway']}"
    assert answer["owner"]["email"] == owner and answer["owner"]["full_name"] == "Ops"
    assert answer["invite_expires_at"]

    again = await gw.post(PLATFORM_PATH, json=body, headers=platform | token)
    assert again.status_code == 200 and not again.json()["created"]
    assert (
        again.json()["tenant_id"] == answer["tenant_id"]
        and again.json()["invite_expires_at"] is None
    )
    taken = await gw.post(
        PLATFORM_PATH, json=body | {"owner_email": "m@x.example"}, headers=platform | token
    )
    assert (taken.status_code, taken.headers["content-type"]) == (409, PROBLEM)
    assert taken.json()["code"] == "already_exists" and taken.json()["errors"][0]["field"] == "slug"
    invalid = await gw.post(PLATFORM_PATH, json=body | {"slug": "www"}, headers=platform | token)
    assert invalid.status_code == 422 and "reserved" in invalid.json()["detail"]

    # The new portal answers at once (its splash), and its owner gets in.
    splash = await gw.get("/", headers={"Host": f"{slug}.localhost"})
    assert splash.status_code == 200 and "Northlight Cinema" in splash.text
    await owner_signs_in(running, mail, slug, owner, after=before)


async def test_the_api_docs_are_for_the_platform_host_and_staff(running, gw, mail) -> None:
    platform = {"Host": f"localhost:{running.suite.ports['gateway']}"}
    assert (await gw.get("/api/docs", headers=platform)).status_code == 200
    doc = await gw.get("/api/openapi.json", headers=platform)
    assert doc.status_code == 200 and PLATFORM_PATH in doc.json()["paths"]
    # On the demo integrator's host: staff (a token) yes, a visitor no.
    assert (await gw.get("/api/openapi.json", headers=running.headers())).status_code == 200
    visitor = await gw.get("/api/docs", headers=running.headers(token=False))
    assert visitor.status_code == 404
