"""Ten documents shared at once make one email per contact, not ten: the
notifications digest, driven through the event it consumes."""

from __future__ import annotations

import asyncio
import uuid

import nats
import pytest
from portal.documents.v1 import events_pb2 as documents_events

from services.chassis.events import build_envelope, subject_for
from services.chassis.topology import ensure_stream
from tests.suite import wait_for

pytestmark = pytest.mark.e2e


async def test_ten_documents_shared_at_once_make_one_email_per_contact(running, mail):
    info = running.info
    project_name = f"Digest test {uuid.uuid4().hex[:6]}"
    # A project of its own: digests group by project, and the demo project's
    # seeded documents must not join this batch.
    project_id = str(uuid.uuid4())
    nc = await nats.connect(running.suite.nats.url)
    try:
        js = nc.jetstream()
        await ensure_stream(js, "DOCUMENTS")
        for i in range(10):
            payload = documents_events.DocumentShared(
                document_id=str(uuid.uuid4()),
                project_id=project_id,
                title=f"Manual {i:02d}",
                customer_id=info["demo_customer_id"],
                project_name=project_name,
            )
            envelope = build_envelope(
                tenant_id=info["tenant_id"],
                aggregate_type="document",
                aggregate_id=payload.document_id,
                payload=payload,
            )
            await js.publish(
                subject_for(documents_events.DocumentShared),
                envelope.SerializeToString(),
                headers={"Nats-Msg-Id": envelope.id},
            )
    finally:
        await nc.drain()

    async def digests():
        msgs = (await mail.get("/messages")).json()
        found = [m for m in msgs if m["subject"] == f"{project_name}: 10 new documents for you"]
        return found if len(found) >= 2 else None

    try:
        found = await wait_for(digests, timeout=30)
    except AssertionError:
        subjects = [m["subject"] for m in (await mail.get("/messages")).json()]
        raise AssertionError(f"no digest; mail subjects: {subjects}") from None
    assert sorted(m["rcpt_tos"][0] for m in found) == [
        "jane.harrison@example.com",
        "tom.harrison@example.com",
    ]
    assert all(f"Manual {i:02d}" in found[0]["text"] for i in range(10))
    await asyncio.sleep(2.5)  # no second digest or per-document email follows
    msgs = (await mail.get("/messages")).json()
    assert len([m for m in msgs if project_name in m["subject"]]) == 2
