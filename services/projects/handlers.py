"""Consumed subjects -> service.py."""

from __future__ import annotations

from functools import partial

from portal.projects.v1 import events_pb2 as projects_events

from services.chassis.access import access_subscriptions
from services.chassis.consumer import Subscription
from services.projects import service
from services.projects.service.common import Sessions


def subscriptions(
    *, sessions: Sessions | None = None, documents: service.SignedCopyArchive | None = None
) -> list[Subscription]:
    subs = access_subscriptions()
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
