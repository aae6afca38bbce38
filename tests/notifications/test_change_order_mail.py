"""Change orders' email through notifications' own handler on a real
database and SMTP sink: the approvers are asked and reminded (the reminder
waits for its time, and an answer takes it away), get the signed copy once;
staff hear of views, approvals and push-backs; viewers hear nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from portal.changeorders.v1 import events_pb2 as co_events
from portal.common.v1 import common_pb2
from portal.identity.v1 import identity_pb2 as ipb

from services.chassis.db import UnitOfWork
from services.chassis.events import Event, subject_for
from services.notifications import handlers
from tests.notifications.conftest import Mailer

APPROVER = ipb.Contact(
    id="c1", email="jane@example.com", full_name="Jane Harrison", role=ipb.CONTACT_ROLE_APPROVER
)
VIEWER = ipb.Contact(
    id="c2", email="tom@example.com", full_name="Tom Harrison", role=ipb.CONTACT_ROLE_VIEWER
)
PM = ipb.StaffUser(
    email="pm@acme.example", full_name="Pat Manager", roles=[ipb.STAFF_ROLE_PROJECT_MANAGER]
)
TECH = ipb.StaffUser(email="tech@acme.example", full_name="Ted", roles=[ipb.STAFF_ROLE_TECHNICIAN])


class FakeIdentity:
    async def tenant(self, tenant_id: str) -> ipb.Tenant:
        return ipb.Tenant(id=tenant_id, slug="acme", display_name="Acme AV", time_zone="UTC")

    async def customer(self, tenant_id: str, customer_id: str) -> ipb.Customer:
        return ipb.Customer(id=customer_id, contacts=[APPROVER, VIEWER])

    async def staff_users(self, tenant_id: str) -> list[ipb.StaffUser]:
        return [PM, TECH]


def _ts(value: datetime) -> Timestamp:
    out = Timestamp()
    out.FromDatetime(value)
    return out


class Orders:
    def __init__(self, mailer: Mailer) -> None:
        self.mailer = mailer
        self.order_id = str(uuid.uuid4())
        self.project_id = str(uuid.uuid4())
        self.subs = handlers.subscriptions(
            identity=FakeIdentity(),  # type: ignore[arg-type]
            portal_url_template="http://{slug}.localhost:8000",
        )

    def facts(self, **kw: Any) -> dict[str, Any]:
        return {
            "change_order_id": self.order_id,
            "project_id": self.project_id,
            "customer_id": "cust-1",
            "number": "CO-003",
            "revision": 1,
            "project_reference": "PRJ-0001",
        } | kw

    async def deliver(self, payload: Message, *, event_id: str | None = None) -> None:
        (sub,) = [s for s in self.subs if s.payload_type is type(payload)]
        event = Event(
            id=event_id or str(uuid.uuid4()),
            type=subject_for(type(payload)),
            tenant_id=self.mailer.tenant_id,
            occurred_at=datetime.now(UTC),
            aggregate_type="change_order",
            aggregate_id=self.order_id,
            payload=payload,
        )
        async with UnitOfWork(self.mailer.sessions, self.mailer.tenant_id) as uow:
            await sub.handler(uow, event)
            await uow.commit()

    async def sent(self, deadline: datetime) -> None:
        await self.deliver(
            co_events.ChangeOrderSent(
                **self.facts(),
                title="Second subwoofer",
                price_impact=common_pb2.Money(currency="GBP", amount_minor=60_000),
                approval_deadline=_ts(deadline),
                project_name="Home cinema",
                schedule_impact_days=2,
            )
        )

    def approved(self) -> co_events.ChangeOrderApproved:
        return co_events.ChangeOrderApproved(
            **self.facts(),
            title="Second subwoofer",
            price_impact=common_pb2.Money(currency="GBP", amount_minor=60_000),
            contract_total=common_pb2.Money(currency="GBP", amount_minor=1_060_000),
            signer_name="Jane Harrison",
            approved_at=_ts(datetime.now(UTC)),
            project_name="Home cinema",
        )


async def test_approvers_are_asked_and_the_reminder_waits_for_its_time(mailer: Mailer):
    orders = Orders(mailer)
    deadline = datetime.now(UTC) + timedelta(days=5)
    await orders.sent(deadline)
    rows = await mailer.rows()
    assert {r.to_address for r in rows} == {"jane@example.com"}  # approvers only
    (asked,) = [r for r in rows if "awaits your approval" in r.subject]
    (reminder,) = [r for r in rows if r.subject.startswith("Reminder")]
    assert reminder.next_attempt_at == deadline - timedelta(hours=24)
    assert "£600.00 more" in asked.text_body and "2 days later" in asked.text_body
    assert f"/projects/{orders.project_id}/change-orders/{orders.order_id}" in asked.text_body
    assert await mailer.send_due() == 1  # the reminder is not due yet
    assert mailer.subjects() == [asked.subject]


async def test_approval_sends_the_signed_copy_once_tells_staff_and_drops_the_reminder(
    mailer: Mailer,
):
    orders = Orders(mailer)
    await orders.sent(datetime.now(UTC) + timedelta(days=5))
    event_id = str(uuid.uuid4())
    for _ in range(3):
        await orders.deliver(orders.approved(), event_id=event_id)
    rows = await mailer.rows()
    assert not [r for r in rows if r.subject.startswith("Reminder")]
    approved = [r for r in rows if "approved" in r.subject]
    assert sorted(r.to_address for r in approved) == ["jane@example.com", "pm@acme.example"]
    (copy,) = [r for r in approved if r.to_address == "jane@example.com"]
    assert f"{orders.order_id}/certificate.pdf" in copy.text_body
    assert "£10,600.00" in copy.text_body


async def test_staff_hear_of_a_view_and_a_push_back_and_the_reminder_goes(mailer: Mailer):
    orders = Orders(mailer)
    await orders.sent(datetime.now(UTC) + timedelta(days=5))
    await orders.deliver(co_events.ChangeOrderViewed(**orders.facts(), viewer_contact_id="c1"))
    await orders.deliver(
        co_events.ChangeOrderPushedBack(
            **orders.facts(),
            comment="Could the sub go in the corner?",
            line_keys=["CO-003.1"],
            author_name="Jane Harrison",
        )
    )
    rows = await mailer.rows()
    staff = sorted(r.subject for r in rows if r.to_address == "pm@acme.example")
    assert staff == [
        "CO-003 on PRJ-0001 was opened by the client",
        "CO-003 on PRJ-0001: the client pushed back",
    ]
    assert not [r for r in rows if r.to_address == "tech@acme.example"]
    assert not [r for r in rows if r.subject.startswith("Reminder")]
    (pushed,) = [r for r in rows if "pushed back" in r.subject]
    assert "Could the sub go in the corner?" in pushed.text_body


async def test_a_deadline_too_near_gets_no_reminder(mailer: Mailer):
    orders = Orders(mailer)
    await orders.sent(datetime.now(UTC) + timedelta(hours=20))
    rows = await mailer.rows()
    assert [r.subject.startswith("Reminder") for r in rows] == [False]
