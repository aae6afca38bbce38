"""Consumed events -> service.py."""

from __future__ import annotations

from functools import partial

from portal.documents.v1.events_pb2 import DocumentShared
from portal.identity.v1.events_pb2 import (
    ContactInvited,
    CustomerAccessChanged,
    MagicLinkRequested,
    PasswordResetRequested,
)
from portal.projects.v1.events_pb2 import ProjectStageChanged, ProposalAccepted, ProposalSent

from services.chassis.consumer import Subscription
from services.notifications import service
from services.notifications.identity_client import IdentityClient

ROUTES = (
    (ProjectStageChanged, service.on_project_stage_changed),
    (ProposalSent, service.on_proposal_event),
    (ProposalAccepted, service.on_proposal_event),
    (DocumentShared, service.on_document_shared),
    (ContactInvited, service.on_login_link),
    (MagicLinkRequested, service.on_login_link),
    (PasswordResetRequested, service.on_login_link),
    (CustomerAccessChanged, service.on_customer_access_changed),
)


def subscriptions(*, identity: IdentityClient, portal_url_template: str) -> list[Subscription]:
    return [
        Subscription(
            event_type,
            partial(handler, identity=identity, portal_url_template=portal_url_template),
        )
        for event_type, handler in ROUTES
    ]
