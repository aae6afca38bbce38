"""Payment-method domains: a new tenant's portal host is recorded when
identity says the tenant was onboarded, and registered on the tenant's
Stripe account by the `payment-method-domains` job (the account may be
connected days later; a failure is retried with backoff), once per account.

The job holds no transaction across Stripe's answer: it reads what is due,
asks Stripe (which looks the domain up before creating it, so a retry after
a lost answer finds the first), and records each outcome in its own
transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from portal.identity.v1 import events_pb2 as identity_events
from sqlalchemy import and_, or_, select, text
from sqlalchemy.dialects.postgresql import insert

from services.chassis.db import UnitOfWork
from services.chassis.events import Event
from services.payments import domain_method_domains as rules
from services.payments.domain_method_domains import DomainState
from services.payments.domain_sync import RetryPolicy
from services.payments.models import PaymentMethodDomain, StripeAccount
from services.payments.service.common import Sessions, now_utc
from services.payments.stripe_gateway import DomainRefused, StripeGateway, StripeUnavailable

DOMAINS_CHANNEL = "payments_domains"  # the job LISTENs on it
BATCH = 20


async def wake_domains(uow: UnitOfWork) -> None:
    """PostgreSQL delivers it at commit: a domain recorded, an account connected."""
    await uow.session.execute(text(f"NOTIFY {DOMAINS_CHANNEL}"))


async def on_tenant_onboarded(
    uow: UnitOfWork, event: Event[identity_events.TenantOnboarded], *, base_domain: str
) -> None:
    """Record the new tenant's host once (a redelivery inserts nothing)."""
    if not base_domain:
        return  # this deployment serves no tenant hosts of its own
    host = rules.portal_domain(event.payload.slug, base_domain)
    inserted = await uow.session.scalar(
        insert(PaymentMethodDomain)
        .values(
            domain=host,
            tenant_id=uuid.UUID(event.payload.tenant_id),
            state=DomainState.PENDING.value,
            next_attempt_at=now_utc(),
        )
        .on_conflict_do_nothing(index_elements=[PaymentMethodDomain.domain])
        .returning(PaymentMethodDomain.domain)
    )
    if inserted is not None:
        await wake_domains(uow)


@dataclass(frozen=True)
class Due:
    domain: str
    account: str
    attempts: int


async def register_due_domains(
    *, sessions: Sessions, stripe_api: StripeGateway, policy: RetryPolicy
) -> bool:
    """One pass of the job; True when a full batch was due (run again now)."""
    now = now_utc()
    due = await _due(sessions, now)
    for item in due:
        try:
            stripe_id = await stripe_api.register_domain(account=item.account, domain=item.domain)
        except (DomainRefused, StripeUnavailable) as exc:
            attempt = rules.after_failure(
                attempts=item.attempts,
                error=str(exc)[:500],
                permanent=isinstance(exc, DomainRefused),
                now=now_utc(),
                policy=policy,
            )
            await _record(sessions, item, attempt=attempt)
        else:
            await _record(sessions, item, stripe_id=stripe_id, at=now_utc())
    return len(due) == BATCH


async def _due(sessions: Sessions, now: datetime) -> list[Due]:
    async with UnitOfWork(sessions, None) as uow:
        rows = (
            await uow.session.execute(
                select(PaymentMethodDomain, StripeAccount.account_id)
                .join(StripeAccount, StripeAccount.tenant_id == PaymentMethodDomain.tenant_id)
                .where(
                    or_(
                        and_(
                            PaymentMethodDomain.state == DomainState.PENDING,
                            PaymentMethodDomain.next_attempt_at <= now,
                        ),
                        # Another account connected since: register it there too.
                        PaymentMethodDomain.account_id != StripeAccount.account_id,
                    )
                )
                .order_by(PaymentMethodDomain.next_attempt_at)
                .limit(BATCH)
            )
        ).all()
    return [
        Due(row.domain, account, 0 if row.account_id != account else row.attempts)
        for row, account in rows
        if rules.is_due(
            state=row.state,
            registered_on=row.account_id,
            account=account,
            attempt_at=row.next_attempt_at,
            now=now,
        )
    ]


async def _record(
    sessions: Sessions,
    item: Due,
    *,
    stripe_id: str = "",
    at: datetime | None = None,
    attempt: rules.Attempt | None = None,
) -> None:
    async with UnitOfWork(sessions, None) as uow:
        row = await uow.session.get(PaymentMethodDomain, item.domain, with_for_update=True)
        if row is None:
            return
        row.account_id = item.account
        if attempt is None:
            row.state, row.stripe_id, row.registered_at = DomainState.REGISTERED, stripe_id, at
            row.attempts, row.last_error = item.attempts + 1, ""
        else:
            row.state, row.attempts = attempt.state, attempt.attempts
            row.next_attempt_at, row.last_error = attempt.next_attempt_at, attempt.last_error
        await uow.commit()


async def registered_domains(uow: UnitOfWork) -> list[str]:
    """The tenant's hosts Stripe has on its current account (for the settings)."""
    return list(
        (
            await uow.session.scalars(
                select(PaymentMethodDomain.domain)
                .join(StripeAccount, StripeAccount.tenant_id == PaymentMethodDomain.tenant_id)
                .where(
                    PaymentMethodDomain.tenant_id == uuid.UUID(str(uow.tenant_id)),
                    PaymentMethodDomain.state == DomainState.REGISTERED,
                    PaymentMethodDomain.account_id == StripeAccount.account_id,
                )
                .order_by(PaymentMethodDomain.domain)
            )
        ).all()
    )
