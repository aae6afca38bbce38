"""Consumed events -> service.py."""

from __future__ import annotations

from functools import partial

from portal.changeorders.v1.events_pb2 import ChangeOrderApproved
from portal.payments.v1.events_pb2 import PaymentPlanChanged
from portal.projects.v1.events_pb2 import ProposalAccepted

from services.chassis.access import access_subscriptions
from services.chassis.consumer import Subscription
from services.projects import service


def subscriptions(
    *, documents: service.SignedCopyArchive, tenants: service.Tenants
) -> list[Subscription]:
    return [
        *access_subscriptions(),
        # Our own event: the signed copy is filed after the acceptance commits.
        Subscription(
            ProposalAccepted,
            partial(service.on_proposal_accepted, documents=documents),
        ),
        # The contract value on the board: each approved change order, once.
        # ... and takes its "awaits your approval" item off the board, which
        # the other change order events open, reopen and resolve.
        Subscription(ChangeOrderApproved, service.on_change_order_approved),
        # A sent order's "by 12 Dec" is the integrator's day (identity's zone).
        *(
            Subscription(t, partial(service.on_change_order_event, tenants=tenants))
            for t in service.CHANGE_ORDER_EVENTS
        ),
        # The board's payments: each invoice's standing, the plan's next payment.
        *(Subscription(t, service.on_invoice_event) for t in service.INVOICE_EVENTS),
        Subscription(PaymentPlanChanged, service.on_payment_plan_changed),
    ]
