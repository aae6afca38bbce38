"""Consumed events -> service/."""

from __future__ import annotations

from functools import partial

from portal.changeorders.v1.events_pb2 import ChangeOrderApproved
from portal.identity.v1.events_pb2 import TenantOnboarded
from portal.payments.v1.events_pb2 import InvoiceIssued, PaymentSucceeded, StripeEventReceived
from portal.projects.v1.events_pb2 import ProjectStageChanged, ProposalAccepted

from services.chassis.access import access_subscriptions
from services.chassis.background import BackgroundProcess
from services.chassis.consumer import Subscription
from services.payments import service


def subscriptions(
    *,
    base_domain: str = "",
    documents: service.DocumentArchive | None = None,
    background: BackgroundProcess | None = None,
) -> list[Subscription]:
    """`documents`: where invoice and receipt PDFs are filed (None: not filed);
    `base_domain`: the portals' domain, each tenant's host registered with Stripe;
    `background`: where issued invoices' PDFs are drawn for filing (None: in
    the consumer's own thread)."""
    return [
        *access_subscriptions(),
        # A new integrator's portal host, for Stripe (Apple Pay needs it registered).
        Subscription(
            TenantOnboarded, partial(service.on_tenant_onboarded, base_domain=base_domain)
        ),
        # The contract baseline and the deposit.
        Subscription(ProposalAccepted, service.on_proposal_accepted),
        # Each stage reached issues its milestone invoice.
        Subscription(ProjectStageChanged, service.on_stage_changed),
        # An approved change order: billed by the tenant's rule for variations.
        Subscription(ChangeOrderApproved, service.on_change_order_approved),
        # Our own: a recorded webhook's work, after the answer to Stripe.
        # In parallel: each locks its event, then the payment and invoice it
        # changes, and lands only newer news (should_apply), in any order.
        # A fetched batch in one transaction (most name no payment of ours:
        # one statement); alone, 8 at a time, if a batch fails.
        Subscription(
            StripeEventReceived,
            service.on_stripe_event,
            parallel=8,
            batch_handler=service.on_stripe_events,
        ),
        # Our own again: what the integrator's books must hear of (queued once
        # per record; the accounting-sync job posts them), and the invoice as
        # issued and each receipt filed in the project's documents, once.
        # Drawn in the background: an approval burst's variation invoices held
        # up the approved orders' own handler on this loop.
        Subscription(
            InvoiceIssued,
            partial(service.on_invoice_issued, archive=documents, background=background),
        ),
        Subscription(PaymentSucceeded, partial(service.on_payment_succeeded, archive=documents)),
    ]
