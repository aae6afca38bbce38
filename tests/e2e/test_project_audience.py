"""A project's visible contacts, through the public surface with every process
separate: staff list Jane alone on a project; Tom, the customer's other
contact, gets 404 for its documents (list, folders, open, download link, the
pages) and his earlier link stops working, and he gets no email of its stage moves while
Jane gets them; an older list arriving late changes nothing; listing no one
again gives Tom it all back."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import httpx
import nats
import pytest
from portal.projects.v1 import events_pb2 as project_events

import deploy.suite
from services.chassis.events import build_envelope, subject_for
from tests.e2e.test_documents_portal import client_browser, pdf, upload
from tests.e2e.test_front_door import Browser
from tests.e2e.test_walking_skeleton import mails_with, new_project
from tests.suite import Running, wait_for

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        "documents" not in deploy.suite.SERVICES, reason="the suite has no documents service"
    ),
]
JANE, TOM = "jane.harrison@example.com", "tom.harrison@example.com"


async def contact_ids(running: Running, gw: httpx.AsyncClient) -> dict[str, str]:
    r = await gw.get("/api/v1/customers", headers=running.headers())
    assert r.status_code == 200, r.text
    (demo,) = [c for c in r.json()["customers"] if c["id"] == running.info["demo_customer_id"]]
    return {c["email"]: c["id"] for c in demo["contacts"]}


async def show_to(running: Running, gw: httpx.AsyncClient, project_id: str, *ids: str) -> None:
    r = await gw.patch(
        f"/api/v1/projects/{project_id}",
        headers=running.headers(),
        json={"visible_contact_ids": list(ids)},
    )
    assert r.status_code == 200, r.text
    assert r.json()["visible_contact_ids"] == list(ids)


async def documents_status(who: Browser, project_id: str) -> int:
    return (await who.get(f"/api/v1/projects/{project_id}/documents")).status_code


async def until_status(who: Browser, project_id: str, wanted: int) -> None:
    async def reached() -> bool:
        return await documents_status(who, project_id) == wanted

    await wait_for(reached)


async def known_to_documents(running: Running, gw: httpx.AsyncClient, project_id: str) -> None:
    """Documents hears of a new project by its created event, within moments."""

    async def known() -> bool:
        r = await gw.get(f"/api/v1/projects/{project_id}/documents", headers=running.headers())
        return r.status_code == 200

    await wait_for(known)


async def move(running: Running, gw: httpx.AsyncClient, project_id: str, stage: str) -> None:
    r = await gw.post(
        f"/api/v1/projects/{project_id}/stage", headers=running.headers(), json={"stage": stage}
    )
    assert r.status_code == 200, r.text


async def publish_stale_audience(running: Running, project_id: str, *ids: str) -> None:
    """An audience event from before the project existed, arriving now: a late
    delivery (or a replay under a new id) of an older list."""
    payload = project_events.ProjectAudienceChanged(
        project_id=project_id,
        customer_id=running.info["demo_customer_id"],
        visible_contact_ids=ids,
    )
    envelope = build_envelope(
        tenant_id=running.info["tenant_id"],
        aggregate_type="project",
        aggregate_id=project_id,
        payload=payload,
        occurred_at=datetime(2020, 1, 1, tzinfo=UTC),
    )
    nc = await nats.connect(running.suite.nats.url)
    try:
        await nc.jetstream().publish(
            subject_for(project_events.ProjectAudienceChanged),
            envelope.SerializeToString(),
            headers={"Nats-Msg-Id": envelope.id},
        )
    finally:
        await nc.drain()


async def test_a_contact_left_off_the_list_gets_nothing_of_the_project_until_listed_again(
    running: Running, gw: httpx.AsyncClient, mail: httpx.AsyncClient
) -> None:
    tag = uuid.uuid4().hex[:6]
    project = await new_project(running, gw, f"Audience test {tag}")
    pid = project["id"]
    sentinel = (await new_project(running, gw, f"Audience sentinel {tag}"))["id"]
    await known_to_documents(running, gw, pid)
    await known_to_documents(running, gw, sentinel)
    doc = await upload(
        gw,
        running,
        pid,
        title=f"Wiring plan {tag}",
        client_visible="true",
        filename=f"plan-{tag}.pdf",
        content=pdf(f"plan {tag}"),
    )
    ids = await contact_ids(running, gw)
    async with (
        await client_browser(running, JANE) as jane,
        await client_browser(running, TOM) as tom,
    ):
        assert await documents_status(tom, pid) == 200  # lists no one: every contact
        held = (await tom.api("POST", f"/api/v1/documents/{doc['id']}/download-link")).json()

        await show_to(running, gw, pid, ids[JANE])
        # Documents hears of the list by event: within moments, not at once.
        await until_status(tom, pid, 404)
        for r in [
            await tom.get(f"/api/v1/projects/{pid}/documents"),
            await tom.get(f"/api/v1/projects/{pid}/folders"),
            await tom.get(f"/api/v1/documents/{doc['id']}"),
            await tom.api("POST", f"/api/v1/documents/{doc['id']}/download-link"),
            await tom.get(f"/projects/{pid}/documents"),
            await tom.get(f"/projects/{pid}/documents/{doc['id']}/download"),
        ]:
            assert r.status_code == 404, (r.request.url, r.status_code, r.text[:200])
        # The link he took before: refused as any revoked link is (one answer
        # for forged, expired and revoked, gateway/api/documents/download.py).
        stale_link = await tom.get(held["url"])
        assert stale_link.status_code == 403, stale_link.text[:200]
        assert "not valid" in stale_link.text
        assert (await jane.get(f"/api/v1/documents/{doc['id']}")).status_code == 200
        jane_link = (await jane.api("POST", f"/api/v1/documents/{doc['id']}/download-link")).json()
        assert (await jane.get(jane_link["url"])).status_code == 200

        await move(running, gw, pid, "procurement")
        subject = f"{project['name']}: now in Procurement"
        await wait_for(lambda: mails_with(mail, subject, JANE))
        await asyncio.sleep(1.0)  # both rows are queued in one transaction: Tom's would be here
        assert await mails_with(mail, subject, TOM) == []

        await show_to(running, gw, pid)  # list no one again
        await until_status(tom, pid, 200)
        # An older list arriving late, then another project's change behind it
        # on the same consumer: once that shows, the stale list was handled, and ignored.
        await publish_stale_audience(running, pid, ids[JANE])
        await show_to(running, gw, sentinel, ids[JANE])
        await until_status(tom, sentinel, 404)
        assert await documents_status(tom, pid) == 200
        assert (await tom.get(held["url"])).status_code == 200  # his old link reads again

        await move(running, gw, pid, "install")
        back = f"{project['name']}: now in Install"
        await wait_for(lambda: mails_with(mail, back, TOM))
        assert await mails_with(mail, back, JANE)
