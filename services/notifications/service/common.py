"""The one way an event becomes queued, branded email: ask identity for the
tenant's brand (and, when the mail goes to a customer, its contacts), let the
domain say what the message is, render it per recipient, and insert the rows in
the caller's transaction (the consumer's, which also marks the event processed)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Iterable, Mapping, Sequence
from typing import Any

from portal.identity.v1 import identity_pb2
from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.chassis.audience import audience_of
from services.chassis.db import UnitOfWork
from services.chassis.events import Event
from services.notifications import domain
from services.notifications import domain_delivery as delivery
from services.notifications.identity_client import IdentityClient
from services.notifications.models import Email, EmailAttachment

Sessions = async_sessionmaker[AsyncSession]
MAIL_CHANNEL = "notifications_mail"


def brand_of(tenant: identity_pb2.Tenant) -> domain.Brand:
    return domain.Brand(
        name=tenant.display_name,
        accent_color=tenant.branding.accent_color,
        support_email=tenant.branding.support_email,
        support_phone=tenant.branding.support_phone,
        time_zone=tenant.time_zone,
    )


def email_row(
    event: Event[Any], brand: domain.Brand, *, to: str, name: str, message: domain.Message
) -> dict:
    rendered = domain.render(message, brand=brand, recipient=name or to)
    # Project events name their project in the payload (a digest's stand-in
    # event has none, but is about the project itself).
    project_id = getattr(event.payload, "project_id", "")
    return {
        "id": uuid.uuid4(),
        "tenant_id": uuid.UUID(event.tenant_id),
        "event_id": uuid.UUID(event.id),
        "event_type": event.type,
        "event_at": event.occurred_at,
        "ordering_key": delivery.ordering_key(event.aggregate_type, event.aggregate_id, project_id),
        "from_name": delivery.header_text(brand.name, delivery.NAME_MAX),
        "to_address": to,
        "to_name": delivery.header_text(name, delivery.NAME_MAX),
        "subject": rendered.subject,
        "text_body": rendered.text,
        "html_body": rendered.html,
    }


async def queue_branded_email(
    uow: UnitOfWork,
    event: Event[Any],
    mailing: domain.Mailing,
    *,
    identity: IdentityClient,
    portal_url_template: str,
) -> None:
    """Queue the mailing's message, in the tenant's brand, for its recipients
    (or every contact identity lists for its customer now, and of those, for
    mail about a project, the ones the project is for)."""
    # The calls at once: each is a round trip to identity and its database.
    asks: dict[str, Awaitable[Any]] = {"tenant": identity.tenant(event.tenant_id)}
    if mailing.customer_id:
        asks["customer"] = identity.customer(event.tenant_id, mailing.customer_id)
    if mailing.staff_roles:
        asks["staff"] = identity.staff_users(event.tenant_id)
    answers = dict(zip(asks, await _together(asks.values()), strict=True))
    tenant = answers["tenant"]
    recipients: Sequence[domain.Recipient] = mailing.recipients
    if mailing.customer_id:
        contacts = list(answers["customer"].contacts)
        if mailing.project_id:
            # The project's own list, as projects and documents hold clients to it.
            # No copy: projects has not told us (a project from before we kept
            # one, never changed since): every contact, as then.
            audience = await audience_of(uow, mailing.project_id)
            if audience is not None:
                contacts = [c for c in contacts if audience.lists(c.id)]
        if mailing.approvers_only:
            contacts = [c for c in contacts if c.role == identity_pb2.CONTACT_ROLE_APPROVER]
        recipients = [domain.Recipient(c.email, c.full_name) for c in contacts]
    if mailing.staff_roles:
        wanted = {
            identity_pb2.StaffRole.Value(f"STAFF_ROLE_{r.upper()}") for r in mailing.staff_roles
        }
        recipients = [
            domain.Recipient(u.email, u.full_name)
            for u in answers["staff"]
            if wanted & set(u.roles)
        ]
    brand = brand_of(tenant)
    message = mailing.compose(brand, portal_url_template.format(slug=tenant.slug))
    rows = [email_row(event, brand, to=r.email, name=r.name, message=message) for r in recipients]
    files = {}
    if mailing.attach is not None:
        files = {
            row["id"]: mailing.attach(brand, r) for row, r in zip(rows, recipients, strict=True)
        }
    await queue_emails(uow, rows, attachments=files)


async def _together(calls: Iterable[Awaitable[Any]]) -> list[Any]:
    """Await the calls at once; the first failure cancels the rest and is raised
    as itself (the consumer retries it like any other)."""
    tasks = [asyncio.ensure_future(c) for c in calls]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        raise


async def queue_emails(
    uow: UnitOfWork,
    rows: list[dict],
    *,
    attachments: Mapping[uuid.UUID, Sequence[domain.Attachment]] | None = None,
) -> None:
    if not rows:
        return
    # State guard: even a duplicate that slipped past the inbox adds nothing
    # (and its files, keyed by the row that was not inserted, are not added).
    inserted = await uow.session.scalars(
        insert(Email).values(rows).on_conflict_do_nothing().returning(Email.id)
    )
    files = [
        {
            "email_id": email_id,
            "position": n,
            "filename": delivery.header_text(f.filename, delivery.NAME_MAX),
            "content_type": f.content_type,
            "content": f.content,
        }
        for email_id in inserted.all()
        for n, f in enumerate((attachments or {}).get(email_id, ()))
    ]
    if files:
        await uow.session.execute(insert(EmailAttachment).values(files))
    await uow.session.execute(text(f"NOTIFY {MAIL_CHANNEL}"))
