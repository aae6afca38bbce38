"""Consumed events -> service/."""

from __future__ import annotations

from services.chassis.access import access_subscriptions
from services.chassis.audience import audience_subscriptions
from services.chassis.consumer import Subscription


def subscriptions() -> list[Subscription]:
    return [
        # Our copy of each customer's portal access (archived: read-only).
        *access_subscriptions(),
        # Our copy of each project's visible contacts.
        *audience_subscriptions(),
    ]
