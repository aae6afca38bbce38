"""The change order's "by 12 Dec" on the board is the integrator's day: the
consumer asks identity the tenant's zone (as the service runs it, on real
PostgreSQL and the identity under test)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp
from portal.changeorders.v1 import events_pb2 as co

from tests.projects.conftest import Projects, new_integrator, new_job
from tests.projects.test_change_order_board import T0, deliver, ids, items

# 23:30 on Saturday 12 Dec in Los Angeles: already the 13th in UTC.
LATE_ON_THE_12TH_IN_LOS_ANGELES = datetime(2026, 12, 13, 7, 30, tzinfo=UTC)


async def test_the_deadline_reads_as_the_day_in_the_integrators_zone(projects: Projects):
    west = await new_integrator(projects, time_zone="America/Los_Angeles")
    job = await new_job(west)
    deadline = Timestamp()
    deadline.FromDatetime(LATE_ON_THE_12TH_IN_LOS_ANGELES)
    order = str(uuid.uuid4())
    sent = co.ChangeOrderSent(
        **ids(job, order), title="Second subwoofer", approval_deadline=deadline
    )
    await deliver(west, sent, T0)
    assert [title for title, _ in await items(west, job)] == [
        "CO-001 Second subwoofer awaits your approval — by 12 Dec"
    ]
