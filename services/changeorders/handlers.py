"""Consumed events -> service/."""

from __future__ import annotations

from functools import partial

from portal.changeorders.v1.events_pb2 import ChangeOrderApproved

from services.changeorders import service
from services.changeorders.certificate_renderer import CertificateRenderer
from services.chassis.access import access_subscriptions
from services.chassis.audience import audience_subscriptions
from services.chassis.consumer import Subscription


def subscriptions(
    *,
    documents: service.DocumentArchive | None = None,
    renderer: CertificateRenderer | None = None,
) -> list[Subscription]:
    """`documents`: where approved orders' certificates are filed (None: not
    filed, for a service under test without documents); `renderer`: where
    they are drawn (None: in the consumer's own thread)."""
    return [
        # Our copy of each customer's portal access (archived: read-only).
        *access_subscriptions(),
        # Our copy of each project's visible contacts.
        *audience_subscriptions(),
        # Our own: the approved order's certificate filed in the project's documents, once.
        Subscription(
            ChangeOrderApproved,
            partial(service.on_change_order_approved, archive=documents, renderer=renderer),
        ),
    ]
