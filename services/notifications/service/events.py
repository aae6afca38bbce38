"""Consumed events -> queued email, each in the consumer's transaction (the
one that marks the event processed). Each says only whom it tells and what:
the branding, rendering and queueing are common.py's."""

from __future__ import annotations

import uuid
from datetime import UTC
from typing import Any

from portal.documents.v1 import events_pb2 as documents_events
from portal.identity.v1 import events_pb2 as identity_events
from portal.projects.v1 import events_pb2 as projects_events
from sqlalchemy.dialects.postgresql import insert

from services.chassis.db import UnitOfWork
from services.chassis.events import Event
from services.notifications import domain
from services.notifications.identity_client import IdentityClient
from services.notifications.models import ShareNotice
from services.notifications.service.common import queue_branded_email


async def on_project_stage_changed(
    uow: UnitOfWork,
    event: Event[projects_events.ProjectStageChanged],
    *,
    identity: IdentityClient,
    portal_url_template: str,
) -> None:
    """Email every contact of the project's customer; the mailer sends after commit."""
    p = event.payload
    await queue_branded_email(
        uow,
        event,
        identity=identity,
        portal_url_template=portal_url_template,
        customer_id=p.customer_id,
        compose=lambda brand, portal: domain.stage_changed(
            project_name=p.name,
            reference=p.reference,
            from_stage=p.from_stage,
            to_stage=p.to_stage,
            client_note=p.client_note,
            link=f"{portal}/projects/{p.project_id}",
        ),
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
    accepted = isinstance(p, projects_events.ProposalAccepted)
    await queue_branded_email(
        uow,
        event,
        identity=identity,
        portal_url_template=portal_url_template,
        customer_id=p.customer_id,
        compose=lambda brand, portal: domain.proposal_message(
            accepted=accepted,
            project_name=p.project_name,
            reference=p.reference,
            version=p.version,
            total=domain.format_money(p.total.amount_minor, p.total.currency),
            signer=p.signer_name if accepted else "",
            link=f"{portal}/projects/{p.project_id}/proposal",
        ),
    )


LOGIN_LINK_KINDS = {
    identity_events.ContactInvited: domain.LinkKind.INVITE,
    identity_events.MagicLinkRequested: domain.LinkKind.MAGIC_LINK,
    identity_events.PasswordResetRequested: domain.LinkKind.PASSWORD_RESET,
}


async def on_login_link(
    uow: UnitOfWork,
    event: Event[Any],
    *,
    identity: IdentityClient,
    portal_url_template: str,
) -> None:
    """Invites, sign-in links and password resets: one email with a one-time link."""
    p = event.payload
    await queue_branded_email(
        uow,
        event,
        identity=identity,
        portal_url_template=portal_url_template,
        recipients=[domain.Recipient(p.email, p.full_name)],
        compose=lambda brand, portal: domain.login_link_message(
            LOGIN_LINK_KINDS[type(p)],
            brand=brand,
            invited_by=getattr(p, "invited_by", ""),
            link=f"{portal}/continue?token={p.token}",
            expires_at=p.expires_at.ToDatetime(tzinfo=UTC),
        ),
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
    purge_after = p.purge_after.ToDatetime(tzinfo=UTC) if p.HasField("purge_after") else None
    await queue_branded_email(
        uow,
        event,
        identity=identity,
        portal_url_template=portal_url_template,
        recipients=[domain.Recipient(c.email, c.full_name) for c in p.contacts],
        compose=lambda brand, portal: domain.access_changed(
            brand=brand,
            customer_name=p.customer_name,
            to_state=p.to_state,
            purge_after=purge_after,
            link=f"{portal}/",
        ),
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
