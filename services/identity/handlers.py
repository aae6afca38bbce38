"""Consumed events -> service/."""

from __future__ import annotations

from portal.identity.v1.events_pb2 import LinkRequested

from services.chassis.consumer import Subscription
from services.identity import service


def subscriptions() -> list[Subscription]:
    return [
        # Our own event: a link is issued after the request has been answered, so
        # the answer takes the same time whether or not the address has an account.
        Subscription(LinkRequested, service.on_link_requested),
    ]
