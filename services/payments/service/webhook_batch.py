"""Group commit for Stripe's webhooks: every delivery that arrives while the
previous batch is committing joins the next one, so N concurrent deliveries
cost one transaction (one account look-up, one multi-row insert per tenant,
one outbox insert, one NOTIFY, one WAL flush) instead of N of each. Alone, a
delivery is written at once: nothing waits for a batch to fill.

Only an event with work after the answer (a PaymentIntent of ours:
`domain_payments.webhook_has_work`) is published to payments' own consumer;
any other is recorded as processed there and then.

Each delivery still gets its own answer: duplicate or not, or its own
refusal (an account no integrator owns). A batch that fails as a whole (the
database) fails every delivery in it; Stripe retries them.

Each outbox row is built in its delivery's own context, so each event
carries the trace context of the request that brought it. `stripe_event` is under
RLS: the batch sets `app.tenant_id` for each tenant's rows in turn, inside
the one transaction (transaction-local, as the unit of work sets it).
"""

from __future__ import annotations

import asyncio
import contextvars
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from portal.payments.v1 import events_pb2
from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert

from services.chassis.db import OUTBOX_CHANNEL, UnitOfWork, outbox_message, outbox_row
from services.chassis.errors import NotFound
from services.payments.domain_payments import webhook_has_work
from services.payments.models import StripeAccount, StripeEvent
from services.payments.service.common import Sessions, now_utc

MAX_BATCH = 256
# One statement, compiled once and run with the batch's rows as parameters
# (SQLAlchemy's insertmanyvalues sends them as one multi-row INSERT). Built
# with `.values([...])` instead, each batch was compiled afresh: py-spy had
# the compiler at ~8% of payments' main thread at webhook rates.
_INSERT = (
    insert(StripeEvent.__table__)
    .on_conflict_do_nothing(index_elements=["id"])
    .returning(StripeEvent.__table__.c.id)
)


@dataclass
class _Delivery:
    event: dict[str, Any]
    context: contextvars.Context  # the request's, for its event's trace headers
    answer: asyncio.Future[bool]  # duplicate?

    def outbox_row(self, tenant: uuid.UUID) -> dict[str, Any]:
        payload = events_pb2.StripeEventReceived(
            event_id=self.event["id"], type=str(self.event.get("type", ""))
        )
        return self.context.run(
            outbox_row,
            str(tenant),
            payload,
            aggregate_type="stripe_event",
            aggregate_id=self.event["id"],
        )


class WebhookBatcher:
    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions
        self._waiting: list[_Delivery] = []
        self._writer: asyncio.Task[None] | None = None

    async def record(self, event: dict[str, Any]) -> bool:
        """Record a verified event once; True if we had it already."""
        # Shielded: a caller that gives up (a cancelled RPC) leaves the batch intact.
        return await asyncio.shield(self.submit(event, contextvars.copy_context()))

    def submit(self, event: dict[str, Any], context: contextvars.Context) -> asyncio.Future[bool]:
        """Queue a verified event for the next batch; its answer (duplicate?)
        or its refusal. `context`: whose trace its outbox row carries."""
        delivery = _Delivery(event, context, asyncio.get_running_loop().create_future())
        self._waiting.append(delivery)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain())
        return delivery.answer

    async def _drain(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[:MAX_BATCH], self._waiting[MAX_BATCH:]
            try:
                answers = await _write(self._sessions, batch)
            except Exception as exc:  # the whole batch: every delivery hears why
                answers = [exc] * len(batch)
            for delivery, answer in zip(batch, answers, strict=True):
                if delivery.answer.done():
                    continue
                if isinstance(answer, BaseException):
                    delivery.answer.set_exception(answer)
                else:
                    delivery.answer.set_result(answer)


async def _write(sessions: Sessions, batch: list[_Delivery]) -> list[bool | Exception]:
    answers: list[bool | Exception] = [True] * len(batch)
    now = now_utc()
    async with UnitOfWork(sessions, None) as uow:
        accounts = {str(d.event.get("account") or "") for d in batch} - {""}
        owners: dict[str, uuid.UUID] = {}
        if accounts:
            owners = dict(
                (
                    await uow.session.execute(
                        select(StripeAccount.account_id, StripeAccount.tenant_id).where(
                            StripeAccount.account_id.in_(accounts)
                        )
                    )
                ).all()
            )
        by_tenant: dict[uuid.UUID, list[int]] = {}
        for i, delivery in enumerate(batch):
            try:
                by_tenant.setdefault(_tenant_of(delivery.event, owners), []).append(i)
            except NotFound as refused:
                answers[i] = refused
        outbox: list[dict[str, Any]] = []
        for tenant, indexes in by_tenant.items():
            await uow.session.execute(
                text("SELECT set_config('app.tenant_id', :tenant, true)"), {"tenant": str(tenant)}
            )
            first = {batch[i].event["id"]: i for i in reversed(indexes)}  # a repeat in the batch
            rows = [_row(batch[i].event, tenant, now) for i in first.values()]
            inserted = set((await uow.session.execute(_INSERT, rows)).scalars().all())
            for event_id in inserted:
                i = first[event_id]
                answers[i] = False
                if _has_work(batch[i].event):
                    outbox.append(batch[i].outbox_row(tenant))
        if outbox:
            await uow.session.execute(outbox_message.insert(), outbox)
            await uow.session.execute(text(f"NOTIFY {OUTBOX_CHANNEL}"))
        await uow.commit()
    return answers


def _tenant_of(event: dict[str, Any], owners: dict[str, uuid.UUID]) -> uuid.UUID:
    """The event's connected account decides; an event from the platform
    account itself (localstripe sends none) is routed by our intent's metadata."""
    account = str(event.get("account") or "")
    if account:
        if account not in owners:
            raise NotFound("no integrator is connected to this Stripe account", field="account")
        return owners[account]
    obj = ((event.get("data") or {}).get("object")) or {}
    try:
        return uuid.UUID(str((obj.get("metadata") or {}).get("tenant_id") or ""))
    except ValueError:
        raise NotFound("this event belongs to no integrator", field="account") from None


def _has_work(event: dict[str, Any]) -> bool:
    obj = ((event.get("data") or {}).get("object")) or {}
    return webhook_has_work(str(event.get("type", "")), obj.get("metadata") or {})


def _row(event: dict[str, Any], tenant: uuid.UUID, now: datetime) -> dict[str, Any]:
    """Done at once when nothing is to follow: no consumer pass, no outbox row."""
    return {
        "processed_at": None if _has_work(event) else now,
        "id": event["id"],
        "tenant_id": tenant,
        "type": str(event.get("type", "")),
        "account": str(event.get("account") or ""),
        "created": datetime.fromtimestamp(int(event.get("created") or 0), UTC),
        "payload": event,
    }
