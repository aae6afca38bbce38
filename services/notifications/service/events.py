"""Consumed events -> queued email, in the consumer's transaction (the one
that marks the event processed). Each event type says only whom it tells and
what (a `domain.Mailing`); `queue_event_email` is the one handler that turns
any of them into branded rows (common.py)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC
from typing import Any

from portal.documents.v1 import events_pb2 as documents_events
from portal.identity.v1 import events_pb2 as identity_events
from portal.projects.v1 import events_pb2 as projects_events
from sqlalchemy.dialects.postgresql import insert

from services.chassis.audience import on_project_audience
from services.chassis.db import UnitOfWork
from services.chassis.events import Event
from services.notifications import domain, domain_step_up
from services.notifications.identity_client import IdentityClient
from services.notifications.models import ShareNotice
from services.notifications.service.common import queue_branded_email
from services.notifications.service.payment_mailings import PAYMENT_MAILINGS


def stage_changed(p: projects_events.ProjectStageChanged) -> domain.Mailing:
    """The contacts of the customer the project is for."""
    return domain.Mailing(
        customer_id=p.customer_id,
        project_id=p.project_id,
        compose=lambda brand, portal: domain.stage_changed(
            project_name=p.name,
            reference=p.reference,
            from_stage=p.from_stage,
            to_stage=p.to_stage,
            client_note=p.client_note,
            link=f"{portal}/projects/{p.project_id}",
        ),
    )


def proposal_sent_or_accepted(
    p: projects_events.ProposalSent | projects_events.ProposalAccepted,
) -> domain.Mailing:
    """A proposal sent for review, or accepted: the contacts the project is for."""
    accepted = isinstance(p, projects_events.ProposalAccepted)
    return domain.Mailing(
        customer_id=p.customer_id,
        project_id=p.project_id,
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
    identity_events.StaffUserInvited: domain.LinkKind.STAFF_INVITE,
    identity_events.MagicLinkRequested: domain.LinkKind.MAGIC_LINK,
    identity_events.PasswordResetRequested: domain.LinkKind.PASSWORD_RESET,
}


def login_link(p: Any) -> domain.Mailing:
    """Invites, sign-in links and password resets: the person, with a one-time link."""
    kind = LOGIN_LINK_KINDS[type(p)]
    invites = (domain.LinkKind.INVITE, domain.LinkKind.STAFF_INVITE)
    invited_by = p.invited_by if kind in invites else ""
    return domain.Mailing(
        recipients=(domain.Recipient(p.email, p.full_name),),
        compose=lambda brand, portal: domain.login_link_message(
            kind,
            brand=brand,
            invited_by=invited_by,
            link=f"{portal}/continue?token={p.token}",
            expires_at=p.expires_at.ToDatetime(tzinfo=UTC),
        ),
    )


def step_up_code(p: identity_events.StepUpCodeRequested) -> domain.Mailing:
    return domain.Mailing(
        recipients=(domain.Recipient(p.email, p.full_name),),
        compose=lambda brand, portal: domain_step_up.step_up_code(
            brand=brand, code=p.code, expires_at=p.expires_at.ToDatetime(tzinfo=UTC)
        ),
    )


def access_changed(p: identity_events.CustomerAccessChanged) -> domain.Mailing:
    """The contacts the event names: a purge may follow, so identity may not know them."""
    purge_after = p.purge_after.ToDatetime(tzinfo=UTC) if p.HasField("purge_after") else None
    return domain.Mailing(
        recipients=tuple(domain.Recipient(c.email, c.full_name) for c in p.contacts),
        compose=lambda brand, portal: domain.access_changed(
            brand=brand,
            customer_name=p.customer_name,
            to_state=p.to_state,
            purge_after=purge_after,
            link=f"{portal}/",
        ),
    )


# An entry answers one mailing, or several when an event tells several people
# different things (a payment: the client's receipt, the integrator's notice).
MAILINGS: dict[type, Callable[[Any], domain.Mailing | tuple[domain.Mailing, ...]]] = {
    projects_events.ProjectStageChanged: stage_changed,
    projects_events.ProposalSent: proposal_sent_or_accepted,
    projects_events.ProposalAccepted: proposal_sent_or_accepted,
    identity_events.ContactInvited: login_link,
    identity_events.StaffUserInvited: login_link,
    identity_events.MagicLinkRequested: login_link,
    identity_events.PasswordResetRequested: login_link,
    identity_events.StepUpCodeRequested: step_up_code,
    identity_events.CustomerAccessChanged: access_changed,
    **PAYMENT_MAILINGS,
}


async def queue_event_email(
    uow: UnitOfWork,
    event: Event[Any],
    *,
    identity: IdentityClient,
    portal_url_template: str,
) -> None:
    """The email MAILINGS says this event sends; the mailer sends it after commit.
    A stage move states whom the project is for at that moment: our copy takes
    it first (newest wins), so its email goes to them whatever order projects'
    other events arrive in."""
    if isinstance(event.payload, projects_events.ProjectStageChanged):
        await on_project_audience(uow, event)
    mailings = MAILINGS[type(event.payload)](event.payload)
    for mailing in mailings if isinstance(mailings, tuple) else (mailings,):
        await queue_branded_email(
            uow, event, mailing, identity=identity, portal_url_template=portal_url_template
        )


async def on_document_shared(
    uow: UnitOfWork, event: Event[documents_events.DocumentShared]
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
