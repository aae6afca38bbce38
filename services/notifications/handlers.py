"""Consumed subjects -> service.py."""

from __future__ import annotations

from functools import partial

from portal.documents.v1 import events_pb2 as documents_events
from portal.identity.v1 import events_pb2 as identity_events
from portal.projects.v1 import events_pb2 as projects_events

from services.chassis.consumer import Subscription
from services.notifications import service
from services.notifications.identity_client import IdentityClient

ROUTES = (
    (
        "projects.project.stage_changed",
        projects_events.ProjectStageChanged,
        service.on_project_stage_changed,
    ),
    ("projects.proposal.sent", projects_events.ProposalSent, service.on_proposal_event),
    ("projects.proposal.accepted", projects_events.ProposalAccepted, service.on_proposal_event),
    ("documents.document.shared", documents_events.DocumentShared, service.on_document_shared),
    ("identity.contact.invited", identity_events.ContactInvited, service.on_login_link),
    ("identity.magic_link.requested", identity_events.MagicLinkRequested, service.on_login_link),
    (
        "identity.password_reset.requested",
        identity_events.PasswordResetRequested,
        service.on_login_link,
    ),
    (
        "identity.customer.access_changed",
        identity_events.CustomerAccessChanged,
        service.on_customer_access_changed,
    ),
)


def subscriptions(*, identity: IdentityClient, portal_url_template: str) -> list[Subscription]:
    return [
        Subscription(
            subject=subject,
            payload_type=payload_type,
            handler=partial(handler, identity=identity, portal_url_template=portal_url_template),
        )
        for subject, payload_type, handler in ROUTES
    ]
