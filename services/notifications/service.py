"""Notifications use cases: queue branded emails for an event (the mailer and
the digests, in mailer.py and digests.py, run as jobs: see jobs.py)."""

from __future__ import annotations

import uuid
from datetime import UTC
from typing import Any

from portal.documents.v1 import events_pb2 as documents_events
from portal.identity.v1 import events_pb2 as identity_events
from portal.identity.v1 import identity_pb2
from portal.projects.v1 import events_pb2 as projects_events
from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.chassis.auth import Principal
from services.chassis.db import UnitOfWork
from services.chassis.events import Event
from services.notifications import domain
from services.notifications.identity_client import IdentityClient
from services.notifications.models import Email, ShareNotice

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
    return {
        "id": uuid.uuid4(),
        "tenant_id": uuid.UUID(event.tenant_id),
        "event_id": uuid.UUID(event.id),
        "event_type": event.type,
        "from_name": brand.name,
        "to_address": to,
        "to_name": name,
        "subject": rendered.subject,
        "text_body": rendered.text,
        "html_body": rendered.html,
    }


async def on_project_stage_changed(
    uow: UnitOfWork,
    event: Event[projects_events.ProjectStageChanged],
    *,
    identity: IdentityClient,
    portal_url_template: str,
) -> None:
    """Email every contact of the project's customer; the mailer sends after commit."""
    p = event.payload
    tenant = await identity.tenant(event.tenant_id)
    customer = await identity.customer(event.tenant_id, p.customer_id)
    brand = brand_of(tenant)
    message = domain.stage_changed(
        project_name=p.name,
        reference=p.reference,
        from_stage=p.from_stage,
        to_stage=p.to_stage,
        client_note=p.client_note,
        link=portal_url_template.format(slug=tenant.slug) + f"/projects/{p.project_id}",
    )
    await queue_emails(
        uow,
        [
            email_row(event, brand, to=c.email, name=c.full_name, message=message)
            for c in customer.contacts
        ],
    )


async def on_proposal_event(
    uow: UnitOfWork,
    event: Event[Any],
    *,
    identity: IdentityClient,
    portal_url_template: str,
) -> None:
    """A proposal sent for review, or accepted: every contact of the customer hears."""
    p = event.payload
    tenant = await identity.tenant(event.tenant_id)
    customer = await identity.customer(event.tenant_id, p.customer_id)
    brand = brand_of(tenant)
    link = portal_url_template.format(slug=tenant.slug) + f"/projects/{p.project_id}/proposal"
    total = domain.format_money(p.total.amount_minor, p.total.currency)
    if isinstance(p, projects_events.ProposalAccepted):
        message = domain.proposal_accepted(
            project_name=p.project_name,
            reference=p.reference,
            version=p.version,
            total=total,
            signer=p.signer_name,
            link=link,
        )
    else:
        message = domain.proposal_sent(
            project_name=p.project_name,
            reference=p.reference,
            version=p.version,
            total=total,
            link=link,
        )
    await queue_emails(
        uow,
        [
            email_row(event, brand, to=c.email, name=c.full_name, message=message)
            for c in customer.contacts
        ],
    )


async def on_login_link(
    uow: UnitOfWork,
    event: Event[Any],
    *,
    identity: IdentityClient,
    portal_url_template: str,
) -> None:
    """Invites, sign-in links and password resets: one email with a one-time link."""
    p = event.payload
    tenant = await identity.tenant(event.tenant_id)
    brand = brand_of(tenant)
    link = portal_url_template.format(slug=tenant.slug) + f"/continue?token={p.token}"
    expires_at = p.expires_at.ToDatetime(tzinfo=UTC)
    if isinstance(p, identity_events.ContactInvited):
        message = domain.contact_invited(
            brand=brand, invited_by=p.invited_by, link=link, expires_at=expires_at
        )
    elif isinstance(p, identity_events.MagicLinkRequested):
        message = domain.magic_link(brand=brand, link=link, expires_at=expires_at)
    else:
        message = domain.password_reset(brand=brand, link=link, expires_at=expires_at)
    await queue_emails(
        uow, [email_row(event, brand, to=p.email, name=p.full_name, message=message)]
    )


async def on_customer_access_changed(
    uow: UnitOfWork,
    event: Event[identity_events.CustomerAccessChanged],
    *,
    identity: IdentityClient,
    portal_url_template: str,
) -> None:
    """Every contact hears about it; the event names them (a purge may follow)."""
    p = event.payload
    tenant = await identity.tenant(event.tenant_id)
    brand = brand_of(tenant)
    message = domain.access_changed(
        brand=brand,
        customer_name=p.customer_name,
        to_state=p.to_state,
        purge_after=p.purge_after.ToDatetime(tzinfo=UTC) if p.HasField("purge_after") else None,
        link=portal_url_template.format(slug=tenant.slug) + "/",
    )
    await queue_emails(
        uow,
        [
            email_row(event, brand, to=c.email, name=c.full_name, message=message)
            for c in p.contacts
        ],
    )


async def queue_emails(uow: UnitOfWork, rows: list[dict]) -> None:
    if not rows:
        return
    # State guard: even a duplicate that slipped past the inbox adds nothing.
    await uow.session.execute(insert(Email).values(rows).on_conflict_do_nothing())
    await uow.session.execute(text(f"NOTIFY {MAIL_CHANNEL}"))


async def list_emails(*, sessions: Sessions, principal: Principal, page_size: int) -> list[Email]:
    principal.require_staff()
    tenant_id = uuid.UUID(principal.require_tenant())
    async with UnitOfWork(sessions, str(tenant_id)) as uow:
        return list(
            await uow.session.scalars(
                select(Email)
                .where(Email.tenant_id == tenant_id)
                .order_by(Email.created_at.desc())
                .limit(min(page_size or 50, 200))
            )
        )


async def on_document_shared(
    uow: UnitOfWork,
    event: Event[documents_events.DocumentShared],
    *,
    identity: IdentityClient,
    portal_url_template: str,
) -> None:
    """Remember it; the digest job tells the client once the sharing stops."""
    p = event.payload
    await uow.session.execute(
        insert(ShareNotice)
        .values(
            event_id=uuid.UUID(event.id),
            tenant_id=uuid.UUID(event.tenant_id),
            customer_id=uuid.UUID(p.customer_id),
            project_id=uuid.UUID(p.project_id),
            project_name=p.project_name[:200],
            document_title=p.title[:300],
        )
        .on_conflict_do_nothing()
    )
