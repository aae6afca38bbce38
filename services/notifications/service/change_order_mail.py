"""Change orders' events -> email: the client's approvers are asked to
approve a sent order (and reminded before its deadline), and get the signed
copy once it is approved; staff hear of views, approvals and push-backs.

The reminder is queued with the order's own email, due at its time (the
mailer sends nothing before `next_attempt_at`), under an id of its own
derived from the order and revision; anything that ends the wait (approved,
pushed back, revised, withdrawn, expired) takes a reminder still pending
away. No table of our own: the email queue is the schedule."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any

from google.protobuf.message import Message as ProtoMessage
from portal.changeorders.v1 import events_pb2 as co_events
from portal.identity.v1 import identity_pb2
from sqlalchemy import delete

from services.chassis.audience import audience_of
from services.chassis.consumer import Subscription
from services.chassis.db import UnitOfWork
from services.chassis.events import Event
from services.notifications import domain
from services.notifications import domain_change_orders as mail
from services.notifications.identity_client import IdentityClient
from services.notifications.models import Email
from services.notifications.service.common import brand_of, email_row, queue_emails

REMINDER_NS = uuid.UUID("5b8e2f61-0c7d-4a39-b1f4-9e2d6a3c7f10")
STAFF_ROLES = frozenset(
    {
        identity_pb2.STAFF_ROLE_OWNER,
        identity_pb2.STAFF_ROLE_ADMIN,
        identity_pb2.STAFF_ROLE_PROJECT_MANAGER,
    }
)
HANDLED: tuple[type[ProtoMessage], ...] = (
    co_events.ChangeOrderSent,
    co_events.ChangeOrderViewed,
    co_events.ChangeOrderApproved,
    co_events.ChangeOrderPushedBack,
    co_events.ChangeOrderRevised,
    co_events.ChangeOrderWithdrawn,
    co_events.ChangeOrderExpired,
)


def subscriptions(*, identity: IdentityClient, portal_url_template: str) -> list[Subscription]:
    handler = partial(
        on_change_order_event, identity=identity, portal_url_template=portal_url_template
    )
    return [Subscription(t, handler) for t in HANDLED]


def reminder_id(change_order_id: str, revision: int) -> uuid.UUID:
    return uuid.uuid5(REMINDER_NS, f"{change_order_id}:{revision}")


def _ends_wait(p: Any) -> int | None:
    """The revision whose wait this event ends, if it ends one."""
    if isinstance(p, co_events.ChangeOrderRevised):
        return p.previous_revision
    if isinstance(p, co_events.ChangeOrderSent | co_events.ChangeOrderViewed):
        return None
    return p.revision


async def on_change_order_event(
    uow: UnitOfWork,
    event: Event[Any],
    *,
    identity: IdentityClient,
    portal_url_template: str,
) -> None:
    p = event.payload
    ended = _ends_wait(p)
    if ended is not None:
        # A pending reminder only: one already sent stays in the record.
        await uow.session.execute(
            delete(Email).where(
                Email.event_id == reminder_id(p.change_order_id, ended), Email.status == "pending"
            )
        )
    if isinstance(p, co_events.ChangeOrderRevised | co_events.ChangeOrderWithdrawn):
        return  # the next send asks again; staff did this themselves
    if isinstance(p, co_events.ChangeOrderExpired):
        return
    tenant = await identity.tenant(event.tenant_id)
    brand = brand_of(tenant)
    portal = portal_url_template.format(slug=tenant.slug)
    link = f"{portal}/projects/{p.project_id}/change-orders/{p.change_order_id}"
    rows: list[dict] = []
    if isinstance(p, co_events.ChangeOrderSent):
        rows += await _to_approvers(uow, identity, event, brand, _asked(p, brand, link))
        # Rows of one insert share their columns: the scheduled ones go on their own.
        await queue_emails(uow, await _reminders(uow, identity, event, brand, link))
    elif isinstance(p, co_events.ChangeOrderApproved):
        rows += await _to_approvers(uow, identity, event, brand, _signed(p, brand, link))
        rows += await _to_staff(identity, event, brand, _staff_approved(p, link))
    elif isinstance(p, co_events.ChangeOrderViewed):
        message = mail.staff_viewed(number=p.number, reference=p.project_reference, link=link)
        rows += await _to_staff(identity, event, brand, message)
    elif isinstance(p, co_events.ChangeOrderPushedBack):
        message = mail.staff_pushed_back(
            number=p.number,
            reference=p.project_reference,
            author=p.author_name,
            comment=p.comment,
            lines=len(p.line_keys),
            link=link,
        )
        rows += await _to_staff(identity, event, brand, message)
    await queue_emails(uow, rows)


def _asked(p: co_events.ChangeOrderSent, brand: domain.Brand, link: str) -> domain.Message:
    return mail.awaiting_approval(
        number=p.number,
        title=p.title,
        project_name=p.project_name,
        reference=p.project_reference,
        impact_minor=p.price_impact.amount_minor,
        currency=p.price_impact.currency,
        days=p.schedule_impact_days,
        deadline=p.approval_deadline.ToDatetime(tzinfo=UTC),
        time_zone=brand.time_zone,
        link=link,
    )


def _signed(p: co_events.ChangeOrderApproved, brand: domain.Brand, link: str) -> domain.Message:
    return mail.signed_copy(
        number=p.number,
        title=p.title,
        project_name=p.project_name,
        signer=p.signer_name,
        signed_at=p.approved_at.ToDatetime(tzinfo=UTC),
        impact_minor=p.price_impact.amount_minor,
        contract_minor=p.contract_total.amount_minor,
        currency=p.price_impact.currency,
        time_zone=brand.time_zone,
        link=link,
        certificate_link=f"{link}/certificate.pdf",
    )


def _staff_approved(p: co_events.ChangeOrderApproved, link: str) -> domain.Message:
    return mail.staff_approved(
        number=p.number,
        project_name=p.project_name,
        signer=p.signer_name,
        impact_minor=p.price_impact.amount_minor,
        currency=p.price_impact.currency,
        link=link,
    )


async def _reminders(
    uow: UnitOfWork,
    identity: IdentityClient,
    event: Event[co_events.ChangeOrderSent],
    brand: domain.Brand,
    link: str,
) -> list[dict]:
    p = event.payload
    deadline = p.approval_deadline.ToDatetime(tzinfo=UTC)
    at = mail.reminder_at(event.occurred_at, deadline)
    if at is None:
        return []
    message = mail.reminder(
        number=p.number,
        title=p.title,
        project_name=p.project_name,
        deadline=deadline,
        time_zone=brand.time_zone,
        link=link,
    )
    rows = await _to_approvers(uow, identity, event, brand, message)
    for row in rows:
        _schedule(row, reminder_id(p.change_order_id, p.revision), at)
    return rows


def _schedule(row: dict, event_id: uuid.UUID, at: datetime) -> None:
    """Due at `at`, after the mail of its own time for that recipient and project."""
    row.update(event_id=event_id, event_at=at, next_attempt_at=at)


async def _to_approvers(
    uow: UnitOfWork,
    identity: IdentityClient,
    event: Event[Any],
    brand: domain.Brand,
    message: domain.Message,
) -> list[dict]:
    """The customer's approvers whom the project is for (chassis.audience)."""
    p = event.payload
    customer = await identity.customer(event.tenant_id, p.customer_id)
    audience = await audience_of(uow, p.project_id)
    contacts = [
        c
        for c in customer.contacts
        if c.role == identity_pb2.CONTACT_ROLE_APPROVER
        and (audience is None or audience.lists(c.id))
    ]
    return _rows(event, brand, message, [(c.email, c.full_name) for c in contacts])


async def _to_staff(
    identity: IdentityClient, event: Event[Any], brand: domain.Brand, message: domain.Message
) -> list[dict]:
    """Owners, admins and project managers: whoever answers for the project."""
    staff = await identity.staff_users(event.tenant_id)
    people = [(u.email, u.full_name) for u in staff if STAFF_ROLES & set(u.roles)]
    return _rows(event, brand, message, people)


def _rows(
    event: Event[Any],
    brand: domain.Brand,
    message: domain.Message,
    people: Sequence[tuple[str, str]],
) -> list[dict]:
    return [email_row(event, brand, to=to, name=name, message=message) for to, name in people]
