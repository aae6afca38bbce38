"""Notifications use cases: queue branded emails for an event; send due emails."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from portal.documents.v1 import events_pb2 as documents_events
from portal.identity.v1 import events_pb2 as identity_events
from portal.identity.v1 import identity_pb2
from portal.projects.v1 import events_pb2 as projects_events
from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.chassis.auth import Principal
from services.chassis.db import UnitOfWork
from services.chassis.events import Event
from services.chassis.outbox import asyncpg_dsn
from services.chassis.telemetry import get_logger
from services.notifications import domain
from services.notifications.identity_client import IdentityClient
from services.notifications.models import Email, ShareNotice

log = get_logger(__name__)
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


async def send_due_emails(
    *,
    sessions: Sessions,
    send: Callable[[Email], Awaitable[None]],
    max_attempts: int,
    batch: int = 20,
) -> int:
    """Send emails that are due; returns how many were attempted."""
    async with sessions() as session, session.begin():
        emails = list(
            await session.scalars(
                select(Email)
                .where(Email.status == "pending", Email.next_attempt_at <= func.now())
                .order_by(Email.created_at)
                .limit(batch)
                .with_for_update(skip_locked=True)
            )
        )
        for email in emails:
            try:
                await send(email)
            except Exception as exc:
                email.attempts += 1
                email.last_error = str(exc)[:2000]
                delay = domain.next_attempt_delay(email.attempts)
                if delay is None or email.attempts >= max_attempts:
                    email.status = "failed"
                    log.error("email failed for good", email_id=str(email.id), error=str(exc))
                else:
                    email.next_attempt_at = datetime.now(UTC) + timedelta(seconds=delay)
                    log.warning(
                        "email send failed; will retry",
                        email_id=str(email.id),
                        retry_in=delay,
                        error=str(exc),
                    )
                continue
            email.status = "sent"
            email.attempts += 1
            email.sent_at = datetime.now(UTC)
            if email.event_type in domain.SENSITIVE_EVENTS:
                # The one-time link has left; keep no copy of it at rest.
                email.text_body = email.html_body = "(removed after sending: a one-time link)"
            log.info("email sent", email_id=str(email.id), event_type=email.event_type)
    return len(emails)


async def run_mailer(
    stop: asyncio.Event,
    *,
    sessions: Sessions,
    database_url: str,
    send: Callable[[Email], Awaitable[None]],
    max_attempts: int,
    poll_interval: float = 2.0,
) -> None:
    """Background loop: woken by NOTIFY when emails are queued, polls for retries."""
    wake = asyncio.Event()
    listener = None
    with contextlib.suppress(Exception):
        listener = await asyncpg.connect(asyncpg_dsn(database_url))
        await listener.add_listener(MAIL_CHANNEL, lambda *_: wake.set())
    try:
        while not stop.is_set():
            wake.clear()
            try:
                sent = await send_due_emails(
                    sessions=sessions, send=send, max_attempts=max_attempts
                )
            except Exception:
                log.exception("mailer pass failed")
                sent = 0
            if sent:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(_first(wake, stop), timeout=poll_interval)
    finally:
        if listener is not None:
            with contextlib.suppress(Exception):
                await listener.close()


async def _first(*events: asyncio.Event) -> None:
    tasks = [asyncio.create_task(e.wait()) for e in events]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for t in tasks:
            t.cancel()


async def on_document_shared(
    uow: UnitOfWork,
    event: Event[documents_events.DocumentShared],
    *,
    identity: IdentityClient,
    portal_url_template: str,
) -> None:
    """Remember it; the digest loop tells the client once the sharing stops."""
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


async def send_share_digests(
    *,
    sessions: Sessions,
    identity: IdentityClient,
    portal_url_template: str,
    quiet_seconds: float,
    now: datetime | None = None,
) -> int:
    """One email per project and contact for documents shared since the last
    digest, once the project has been quiet for `quiet_seconds`. Returns how
    many digests were queued."""
    now = now or datetime.now(UTC)
    async with sessions() as session:
        groups = (
            await session.execute(
                select(
                    ShareNotice.tenant_id,
                    ShareNotice.customer_id,
                    ShareNotice.project_id,
                    func.max(ShareNotice.created_at),
                )
                .where(ShareNotice.digest_id.is_(None))
                .group_by(ShareNotice.tenant_id, ShareNotice.customer_id, ShareNotice.project_id)
            )
        ).all()
    queued = 0
    for tenant_id, customer_id, project_id, newest in groups:
        if not domain.digest_due(newest, now, quiet_seconds):
            continue
        async with UnitOfWork(sessions, str(tenant_id)) as uow:
            notices = list(
                await uow.session.scalars(
                    select(ShareNotice)
                    .where(ShareNotice.project_id == project_id, ShareNotice.digest_id.is_(None))
                    .with_for_update(skip_locked=True)
                )
            )
            if not notices:
                continue  # another replica took them
            tenant = await identity.tenant(str(tenant_id))
            customer = await identity.customer(str(tenant_id), str(customer_id))
            brand = brand_of(tenant)
            digest_id = uuid.uuid4()
            message = domain.documents_shared(
                project_name=notices[0].project_name,
                titles=[n.document_title for n in notices],
                link=portal_url_template.format(slug=tenant.slug)
                + f"/projects/{project_id}/documents",
            )
            digest = Event(
                id=str(digest_id),
                type="documents.document.shared",
                tenant_id=str(tenant_id),
                occurred_at=now,
                aggregate_type="project",
                aggregate_id=str(project_id),
                payload=None,
            )
            await queue_emails(
                uow,
                [
                    email_row(digest, brand, to=c.email, name=c.full_name, message=message)
                    for c in customer.contacts
                ],
            )
            for notice in notices:
                notice.digest_id = digest_id
            await uow.commit()
            queued += 1
    return queued


async def run_share_digests(stop: asyncio.Event, *, interval: float, **kwargs: Any) -> None:
    while not stop.is_set():
        try:
            await send_share_digests(**kwargs)
        except Exception:
            log.exception("document digest pass failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
