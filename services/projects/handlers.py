"""Consumed subjects -> service.py."""

from __future__ import annotations

from functools import partial

from portal.identity.v1 import events_pb2 as identity_events
from portal.projects.v1 import events_pb2 as projects_events

from services.chassis.consumer import Subscription
from services.projects import service
from services.projects.service.common import Sessions


def subscriptions(
    *, sessions: Sessions | None = None, documents: service.SignedCopyArchive | None = None
) -> list[Subscription]:
    subs = [
        Subscription(
            "identity.customer.access_changed",
            identity_events.CustomerAccessChanged,
            service.on_customer_access_changed,
        ),
        Subscription(
            "identity.customer.purged", identity_events.CustomerPurged, service.on_customer_purged
        ),
    ]
    if sessions is not None and documents is not None:
        # Our own event: the signed copy is filed after the acceptance commits.
        subs.append(
            Subscription(
                "projects.proposal.accepted",
                projects_events.ProposalAccepted,
                partial(service.on_proposal_accepted, sessions=sessions, documents=documents),
            )
        )
    return subs
