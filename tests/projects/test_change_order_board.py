"""A change order awaiting the client's approval on their status board:
projects' handlers of changeorders' events, as the consumer runs them, on real
PostgreSQL. Events arrive twice and out of order; the newest report wins."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from google.protobuf.timestamp_pb2 import Timestamp
from portal.changeorders.v1 import events_pb2 as co
from portal.common.v1 import common_pb2
from portal.projects.v1 import projects_pb2 as pb

from services.projects import handlers
from tests.projects.conftest import Integrator, Job, _NoArchive

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
DEADLINE = datetime(2026, 12, 12, 17, 0, tzinfo=UTC)


def ids(job: Job, order_id: str, revision: int = 1) -> dict:
    return {
        "change_order_id": order_id,
        "project_id": job.project.id,
        "customer_id": job.project.customer_id,
        "number": "CO-001",
        "revision": revision,
    }


def sent(job: Job, order_id: str, revision: int = 1, title: str = "Second subwoofer"):
    deadline = Timestamp()
    deadline.FromDatetime(DEADLINE)
    return co.ChangeOrderSent(
        **ids(job, order_id, revision),
        title=title,
        price_impact=common_pb2.Money(currency="USD", amount_minor=155_880),
        approval_deadline=deadline,
    )


def approved(job: Job, order_id: str, revision: int = 1):
    return co.ChangeOrderApproved(
        **ids(job, order_id, revision),
        title="Second subwoofer",
        price_impact=common_pb2.Money(currency="USD", amount_minor=155_880),
    )


async def deliver(acme: Integrator, event, at: datetime, event_id: str | None = None) -> None:
    await acme.svc.deliver(
        handlers.subscriptions(documents=_NoArchive(), tenants=acme.svc.tenants),
        event,
        tenant_id=acme.tenant_id,
        aggregate_id=event.change_order_id,
        at=at,
        event_id=event_id,
    )


async def items(acme: Integrator, job: Job) -> list[tuple[str, str]]:
    board: pb.GetStatusBoardResponse = await acme.board(job.project.id, acme.approver)
    return [(w.title, w.link) for w in board.waiting_on if w.kind == "change_order_to_approve"]


def item(job: Job, order_id: str, title: str = "Second subwoofer") -> tuple[str, str]:
    return (
        f"CO-001 {title} awaits your approval — by 12 Dec",
        f"/projects/{job.project.id}/change-orders/{order_id}",
    )


async def test_a_sent_change_order_waits_on_the_client_until_approved(acme: Integrator, job: Job):
    order = str(uuid.uuid4())
    await deliver(acme, sent(job, order), T0)
    assert await items(acme, job) == [item(job, order)]
    viewed = co.ChangeOrderViewed(**ids(job, order), viewer_contact_id=str(uuid.uuid4()))
    await deliver(acme, viewed, T0 + timedelta(minutes=1))
    assert await items(acme, job) == [item(job, order)]  # viewed: still waiting
    staff_board = await acme.board(job.project.id, acme.pm)  # the console's board too
    assert [w.link for w in staff_board.waiting_on if w.kind == "change_order_to_approve"] == [
        item(job, order)[1]
    ]

    await deliver(acme, approved(job, order), T0 + timedelta(minutes=2))
    assert await items(acme, job) == []


async def test_redelivered_events_change_nothing(acme: Integrator, job: Job):
    order = str(uuid.uuid4())
    for _ in range(2):
        await deliver(acme, sent(job, order), T0)
    assert await items(acme, job) == [item(job, order)]
    for _ in range(2):  # the approval twice: resolved once, the variation once
        await deliver(acme, approved(job, order), T0 + timedelta(minutes=1))
    assert await items(acme, job) == []
    await deliver(acme, sent(job, order), T0)  # and the send once more, late
    assert await items(acme, job) == []
    rows = await acme.svc.sql(
        acme.tenant_id,
        "SELECT count(*) FROM waiting_item WHERE key = :k",
        k=order,
    )
    assert rows == [(1,)]


async def test_an_approval_arriving_before_its_send_keeps_it_off_the_board(
    acme: Integrator, job: Job
):
    order = str(uuid.uuid4())
    await deliver(acme, approved(job, order), T0 + timedelta(minutes=5))
    await deliver(acme, sent(job, order), T0)
    assert await items(acme, job) == []


async def test_a_revision_brings_it_back_and_a_late_push_back_does_not_take_it_off(
    acme: Integrator, job: Job
):
    order = str(uuid.uuid4())
    await deliver(acme, sent(job, order), T0)
    pushed = co.ChangeOrderPushedBack(**ids(job, order), comment="Too dear")
    await deliver(acme, pushed, T0 + timedelta(hours=1))
    assert await items(acme, job) == []

    revised = co.ChangeOrderRevised(**ids(job, order, 2), previous_revision=1)
    second = sent(job, order, 2, title="Second subwoofer (smaller)")
    # Revision 2 is sent; the revision event and a repeat of the push-back
    # arrive after it: the newer revision stands.
    await deliver(acme, second, T0 + timedelta(hours=3))
    await deliver(acme, revised, T0 + timedelta(hours=2))
    await deliver(acme, pushed, T0 + timedelta(hours=1), event_id=str(uuid.uuid4()))
    assert await items(acme, job) == [item(job, order, "Second subwoofer (smaller)")]

    withdrawn = co.ChangeOrderWithdrawn(**ids(job, order, 2), reason="Not needed")
    await deliver(acme, withdrawn, T0 + timedelta(hours=4))
    assert await items(acme, job) == []


async def test_an_expired_order_no_longer_waits(acme: Integrator, job: Job):
    order = str(uuid.uuid4())
    await deliver(acme, sent(job, order), T0)
    await deliver(acme, co.ChangeOrderExpired(**ids(job, order)), DEADLINE)
    assert await items(acme, job) == []
