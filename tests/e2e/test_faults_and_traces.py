"""A service down mid-flow loses no event and sends no duplicate; one user
action is one trace across gateway -> projects -> NATS -> notifications."""

from __future__ import annotations

import asyncio
import json
import secrets
import uuid

import pytest

from tests.e2e.test_walking_skeleton import mails_with, new_project
from tests.suite import wait_for

pytestmark = pytest.mark.e2e


async def count_after_settling(mail, subject: str, expected: int) -> int:
    async def enough():
        return len(await mails_with(mail, subject)) >= expected

    await wait_for(enough, timeout=30)
    await asyncio.sleep(1.5)  # a duplicate would arrive in this window
    return len(await mails_with(mail, subject))


async def test_notifications_down_during_the_move_emails_once_after_restart(running, gw, mail):
    suite = running.suite
    project = await new_project(running, gw, f"Lounge {uuid.uuid4().hex[:6]}")
    suite.kill_child("notifications")  # a crash, not a shutdown
    try:
        r = await gw.post(
            f"/api/v1/projects/{project['id']}/stage",
            headers=running.headers(),
            json={"stage": "install"},
        )
        assert r.status_code == 200
        await asyncio.sleep(0.5)
        subject = f"{project['name']}: now in Install"
        assert await mails_with(mail, subject) == []
    finally:
        suite.start_child("notifications")
        suite.wait_ready(["notifications"])
    assert await count_after_settling(mail, subject, 2) == 2


async def test_projects_killed_right_after_commit_loses_no_event(running, gw, mail):
    suite = running.suite
    project = await new_project(running, gw, f"Gym {uuid.uuid4().hex[:6]}")
    r = await gw.post(
        f"/api/v1/projects/{project['id']}/stage",
        headers=running.headers(),
        json={"stage": "handover"},
    )
    assert r.status_code == 200
    suite.kill_child("projects")  # whether or not its relay had published yet
    suite.start_child("projects")
    suite.wait_ready(["projects"])
    assert await count_after_settling(mail, f"{project['name']}: now in Handover", 2) == 2


async def test_identity_down_while_notifying_is_retried_until_it_is_back(running, gw, mail):
    suite = running.suite
    project = await new_project(running, gw, f"Patio {uuid.uuid4().hex[:6]}")
    suite.stop_child("notifications")
    r = await gw.post(
        f"/api/v1/projects/{project['id']}/stage",
        headers=running.headers(),
        json={"stage": "install"},
    )
    assert r.status_code == 200
    suite.kill_child("identity")  # notifications needs identity for the brand and contacts
    subject = f"{project['name']}: now in Install"
    try:
        suite.start_child("notifications")
        suite.wait_ready(["notifications"])
        await asyncio.sleep(2.0)  # the handler fails and is retried meanwhile
        assert await mails_with(mail, subject) == []
    finally:
        suite.start_child("identity")
        suite.wait_ready(["identity"])
    assert await count_after_settling(mail, subject, 2) == 2


def spans(running, service: str) -> list[dict]:
    path = running.trace_file(service)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


async def test_one_trace_from_gateway_through_nats_to_notifications(running, gw, mail):
    project = await new_project(running, gw, f"Study {uuid.uuid4().hex[:6]}")
    trace_id = secrets.token_hex(16)
    headers = {**running.headers(), "traceparent": f"00-{trace_id}-{secrets.token_hex(8)}-01"}
    r = await gw.post(
        f"/api/v1/projects/{project['id']}/stage", headers=headers, json={"stage": "procurement"}
    )
    assert r.status_code == 200
    await count_after_settling(mail, f"{project['name']}: now in Procurement", 2)

    def in_trace(service: str) -> list[str]:
        return [
            s["name"]
            for s in spans(running, service)
            if s["context"]["trace_id"] == f"0x{trace_id}"
        ]

    async def complete():
        return "projects.project.stage_changed process" in in_trace("notifications")

    await wait_for(complete, timeout=10)
    gateway, projects, notifications = (
        in_trace(s) for s in ("gateway", "projects", "notifications")
    )
    assert any("stage" in name for name in gateway), gateway
    assert any("ChangeProjectStage" in name for name in projects), projects
    assert "projects.project.stage_changed publish" in projects
    assert "projects.project.stage_changed process" in notifications
    # ... and the handler's call to identity belongs to the same trace.
    assert any("GetCustomer" in name for name in in_trace("identity"))
