"""Mail through the whole suite: a burst of stage changes for one project
reaches each contact in the order it happened, even when the first send is
refused for now; a field with CR/LF in it adds no header; a message the
server refuses for good fails on its own and the next one is delivered."""

from __future__ import annotations

import email
import email.policy
import uuid
from collections.abc import AsyncIterator

import nats
import pytest
from portal.projects.v1 import events_pb2 as project_events

from services.chassis.events import build_envelope, subject_for
from tests.e2e.test_walking_skeleton import mails_with, new_project
from tests.suite import wait_for

pytestmark = pytest.mark.e2e

JANE = "jane.harrison@example.com"
BURST = ("procurement", "install", "commissioning", "handover")


@pytest.fixture
async def faults(mail) -> AsyncIterator[None]:
    """Faults the sink is told to inject are forgotten after the test."""
    yield
    await mail.delete("/faults")


async def inject(mail, *, to: str, code: int, subject: str, count: int = 1) -> None:
    r = await mail.post(
        "/faults", params={"to": to, "code": code, "subject": subject, "count": count}
    )
    assert r.status_code == 201, r.text


async def burst(running, gw, project: dict) -> list[str]:
    """The stage changes, one right after the other; the subjects they mail."""
    for stage in BURST:
        r = await gw.post(
            f"/api/v1/projects/{project['id']}/stage",
            headers=running.headers(),
            json={"stage": stage},
        )
        assert r.status_code == 200, r.text
    return [f"{project['name']}: now in {stage.capitalize()}" for stage in BURST]


async def received(mail, name: str, count: int) -> dict[str, list[str]]:
    """Each recipient's subjects about `name`, in the order the sink got them."""

    async def all_in():
        msgs = await mails_with(mail, name)
        return msgs if len(msgs) >= count else None

    by_recipient: dict[str, list[str]] = {}
    for m in await wait_for(all_in, timeout=30):
        for rcpt in m["rcpt_tos"]:
            by_recipient.setdefault(rcpt, []).append(m["subject"])
    return by_recipient


async def test_a_burst_of_stage_changes_arrives_in_order(running, gw, mail):
    project = await new_project(running, gw, f"Burst {uuid.uuid4().hex[:6]}")
    subjects = await burst(running, gw, project)
    by_recipient = await received(mail, project["name"], 2 * len(BURST))
    assert JANE in by_recipient and len(by_recipient) == 2
    for got in by_recipient.values():
        assert got == subjects


async def test_the_order_holds_when_the_first_send_is_refused_for_now(running, gw, mail, faults):
    project = await new_project(running, gw, f"Greylisted {uuid.uuid4().hex[:6]}")
    first = f"{project['name']}: now in Procurement"
    await inject(mail, to=JANE, code=451, subject=first)
    subjects = await burst(running, gw, project)
    by_recipient = await received(mail, project["name"], 2 * len(BURST))
    assert by_recipient[JANE] == subjects  # the retried first one was not overtaken
    (other,) = set(by_recipient) - {JANE}
    assert by_recipient[other] == subjects


async def publish_stage_change(running, *, project_id: str, name: str, to_stage: int) -> None:
    """Straight into NATS, as projects would publish it: whatever projects'
    own input checks refuse today, old events and other fields still arrive."""
    payload = project_events.ProjectStageChanged(
        project_id=project_id,
        reference="PRJ-9999",
        name=name,
        customer_id=running.info["demo_customer_id"],
        from_stage=to_stage - 1,
        to_stage=to_stage,
    )
    envelope = build_envelope(
        tenant_id=running.info["tenant_id"],
        aggregate_type="project",
        aggregate_id=project_id,
        payload=payload,
    )
    nc = await nats.connect(running.suite.nats.url)
    try:
        await nc.jetstream().publish(
            subject_for(project_events.ProjectStageChanged),
            envelope.SerializeToString(),
            headers={"Nats-Msg-Id": envelope.id},
        )
    finally:
        await nc.drain()


async def test_a_crlf_project_name_adds_no_header_and_stops_nothing(running, mail):
    tag = uuid.uuid4().hex[:6]
    await publish_stage_change(
        running, project_id=str(uuid.uuid4()), name=f"A\r\nBcc: x@evil {tag}", to_stage=3
    )
    subject = f"A Bcc: x@evil {tag}: now in Install"
    by_recipient = await received(mail, subject, 2)
    assert JANE in by_recipient and "x@evil" not in by_recipient
    for m in await mails_with(mail, subject):
        raw = (await mail.get(f"/messages/{m['id']}/raw")).content
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        names = [n.lower() for n in msg]
        assert names.count("subject") == 1 and "bcc" not in names
        assert msg["Subject"] == subject


async def test_a_message_refused_for_good_fails_and_the_next_is_delivered(
    running, gw, mail, faults
):
    tag = uuid.uuid4().hex[:6]
    project_id = str(uuid.uuid4())
    refused = f"Refused {tag}: now in Procurement"
    await inject(mail, to=JANE, code=550, subject=refused, count=99)
    await publish_stage_change(running, project_id=project_id, name=f"Refused {tag}", to_stage=2)
    await publish_stage_change(running, project_id=project_id, name=f"Refused {tag}", to_stage=3)

    by_recipient = await received(mail, f"Refused {tag}", 3)
    assert by_recipient[JANE] == [f"Refused {tag}: now in Install"]

    async def failed():
        r = await gw.get("/api/v1/emails", headers=running.headers(), params={"page_size": 100})
        assert r.status_code == 200, r.text
        mine = [
            e for e in r.json()["emails"] if e["subject"] == refused and e["to_address"] == JANE
        ]
        return mine if mine and mine[0]["status"] == "failed" else None

    await wait_for(failed, timeout=20)
