"""Consumed events -> service/events.py: every event `MAILINGS` names becomes
queued email (bookings' events through service/booking_mail.py, with the
visit's calendar invitation); a shared document is remembered for the digest; projects'
audience events keep the chassis copy that mail about a project goes by;
identity's events that change a brand, the staff or a customer's contacts make
the identity client forget its copy (identity_client.FORGETTING)."""

from __future__ import annotations

from functools import partial

from portal.documents.v1.events_pb2 import DocumentShared

from services.chassis.audience import audience_subscriptions
from services.chassis.consumer import Handler, Subscription
from services.chassis.db import UnitOfWork
from services.chassis.events import Event
from services.notifications import service
from services.notifications.identity_client import FORGETTING, IdentityClient
from services.notifications.service import change_order_mail

# Events whose mail is queued at once, each in its own transaction: the handler
# waits on identity and PostgreSQL far longer than it computes, and one at a
# time it fell behind 20 stage moves a second (a growing backlog). One
# aggregate's events (one project's moves) still go in order.
MAILED_AT_ONCE = 8


def subscriptions(*, identity: IdentityClient, portal_url_template: str) -> list[Subscription]:
    emailed = partial(
        service.queue_event_email, identity=identity, portal_url_template=portal_url_template
    )
    booking_emailed = partial(
        service.queue_booking_email, identity=identity, portal_url_template=portal_url_template
    )
    return [
        *(
            Subscription(
                event_type,
                _forgetting(identity, emailed) if event_type in FORGETTING else emailed,
                parallel=MAILED_AT_ONCE,
                per_aggregate=True,
            )
            for event_type in service.MAILINGS
        ),
        *(
            Subscription(event_type, _forgetting(identity, None))
            for event_type in FORGETTING
            if event_type not in service.MAILINGS
        ),
        *(Subscription(event_type, booking_emailed) for event_type in service.BOOKING_EVENTS),
        Subscription(DocumentShared, service.on_document_shared),
        # Change orders: asked, reminded, the signed copy; staff told (its own module).
        *change_order_mail.subscriptions(
            identity=identity, portal_url_template=portal_url_template
        ),
        *audience_subscriptions(),
    ]


def _forgetting(identity: IdentityClient, then: Handler | None) -> Handler:
    """Forget first, before the handler asks identity (an access change's own
    mail then goes by the customer as it now is). Forgetting twice, when a
    handler is retried, costs one more call."""

    async def handle(uow: UnitOfWork, event: Event) -> None:
        identity.forget_for(event.tenant_id, event.payload)
        if then is not None:
            await then(uow, event)

    return handle
