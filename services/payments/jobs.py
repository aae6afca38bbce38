"""Jobs payments declares; the chassis runs them (roles "all" and "jobs")."""

from __future__ import annotations

from services.chassis.jobs import Job
from services.payments import service
from services.payments.domain_sync import RetryPolicy
from services.payments.service import Accounting
from services.payments.service.accounting import SYNC_CHANNEL
from services.payments.service.common import Sessions
from services.payments.service.method_domains import DOMAINS_CHANNEL
from services.payments.stripe_gateway import StripeGateway


def accounting_sync(*, sessions: Sessions, accounting: Accounting, interval: float) -> list[Job]:
    """Post due sync records, woken when one is queued or retried, else every
    `interval` seconds (backoffs come due without a NOTIFY).

    A singleton: the provider's refresh tokens rotate on every refresh, so two
    replicas refreshing one connection at once would leave one of them with a
    spent token; one pass at a time keeps each connection's tokens in one hand.
    None without a configured provider."""
    if not accounting.providers:
        return []

    async def sync_due() -> bool:
        return await service.sync_due(sessions=sessions, accounting=accounting)

    return [
        Job.on_notify(
            SYNC_CHANNEL,
            sync_due,
            fallback_seconds=interval,
            name="accounting-sync",
            singleton=True,
        )
    ]


def payment_method_domains(
    *, sessions: Sessions, stripe_api: StripeGateway | None, retry_seconds: float
) -> list[Job]:
    """Register tenants' portal hosts with Stripe, woken when one is recorded
    or an account is connected, else every minute (backoffs come due without
    a NOTIFY). A singleton: one registration per domain at a time. None
    without Stripe."""
    if stripe_api is None:
        return []
    policy = RetryPolicy(base_seconds=retry_seconds, cap_seconds=max(retry_seconds, 3600.0))

    async def register_due() -> bool:
        return await service.register_due_domains(
            sessions=sessions, stripe_api=stripe_api, policy=policy
        )

    return [
        Job.on_notify(
            DOMAINS_CHANNEL,
            register_due,
            fallback_seconds=min(retry_seconds, 60.0),
            name="payment-method-domains",
            singleton=True,
        )
    ]
