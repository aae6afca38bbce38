"""Consumed events -> service.py."""

from __future__ import annotations

from functools import partial

from portal.identity.v1.events_pb2 import CustomerAccessChanged, CustomerPurged
from portal.projects.v1.events_pb2 import ProposalAccepted

from services.chassis.consumer import Subscription
from services.projects import service
from services.projects.service.common import Sessions


def subscriptions(
    *, sessions: Sessions, documents: service.SignedCopyArchive
) -> list[Subscription]:
    return [
        Subscription(CustomerAccessChanged, service.on_customer_access_changed),
        Subscription(CustomerPurged, service.on_customer_purged),
        # Our own event: the signed copy is filed after the acceptance commits.
        Subscription(
            ProposalAccepted,
            partial(service.on_proposal_accepted, sessions=sessions, documents=documents),
        ),
    ]
