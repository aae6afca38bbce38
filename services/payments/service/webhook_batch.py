"""Group commit for Stripe's webhooks: every delivery that arrives while the
previous batch is committing joins the next one, so N concurrent deliveries
cost one transaction (one account look-up before it, then one statement per
tenant holding the events, their outbox rows and the relay's NOTIFY, one WAL
flush) instead of N of each. Alone, a
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
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from portal.payments.v1 import events_pb2

from services.chassis.db import OUTBOX_CHANNEL, outbox_row
from services.chassis.errors import NotFound
from services.payments.domain_payments import webhook_has_work
from services.payments.service.common import Sessions, now_utc

MAX_BATCH = 256
# The account -> tenant routing, read before the transaction (a routing
# table: reading it inside would see nothing more).
_OWNERS = (
    "SELECT account_id, tenant_id::text FROM stripe_account WHERE account_id = ANY($1::text[])"
)
# One tenant's part of a batch in one statement, one round trip: the events
# (a repeat id inserts nothing), the outbox row of each new one that has work
# after the answer, and the relay's wake-up (pg_notify, delivered at commit)
# when any was queued. The rows travel as arrays (unnest), so the statement is
# prepared once by asyncpg and never compiled again. Raw asyncpg, not the ORM:
# at webhook rates SQLAlchemy's execution path and the round trips of one
# statement each (account look-up, tenant, events, outbox, NOTIFY, in a
# transaction of its own) were the largest part of payments' CPU per batch.
_RECORD = f"""
WITH ev AS (
    INSERT INTO stripe_event (id, tenant_id, type, account, created, payload, processed_at)
    SELECT e.id, $1::uuid, e.type, e.account, e.created, e.payload::jsonb,
           CASE WHEN e.has_work THEN NULL ELSE $2::timestamptz END
    FROM unnest($3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::text[], $8::bool[])
         AS e(id, type, account, created, payload, has_work)
    ON CONFLICT (id) DO NOTHING
    RETURNING id
), ob AS (
    INSERT INTO outbox_message (id, tenant_id, subject, payload, headers)
    SELECT o.id, $1::uuid, o.subject, o.payload, o.headers::jsonb
    FROM unnest($9::text[], $10::uuid[], $11::text[], $12::bytea[], $13::text[])
         AS o(event_id, id, subject, payload, headers)
    WHERE o.event_id IN (SELECT id FROM ev)
    RETURNING 1
)
SELECT ev.id, (SELECT count(*) FROM (SELECT pg_notify('{OUTBOX_CHANNEL}', '') FROM ob LIMIT 1) n)
FROM ev
"""


@dataclass
class _Delivery:
    event: dict[str, Any]
    raw: str  # the event's JSON as Stripe sent it, stored as is
    # The request's context, for its event's trace headers: built only for an
    # event with work after the answer (most have none), as extracting a
    # traceparent was ~10 % of payments' CPU per delivery.
    context: Callable[[], contextvars.Context]
    answer: asyncio.Future[bool]  # duplicate?

    def outbox_row(self, tenant: uuid.UUID) -> dict[str, Any]:
        payload = events_pb2.StripeEventReceived(
            event_id=self.event["id"], type=str(self.event.get("type", ""))
        )
        return self.context().run(
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

    async def record(self, event: dict[str, Any], payload: bytes) -> bool:
        """Record a verified event once; True if we had it already."""
        context = contextvars.copy_context()
        # Shielded: a caller that gives up (a cancelled RPC) leaves the batch intact.
        return await asyncio.shield(self.submit(event, payload, lambda: context))

    def submit(
        self,
        event: dict[str, Any],
        payload: bytes,
        context: Callable[[], contextvars.Context],
    ) -> asyncio.Future[bool]:
        """Queue a verified event (parsed from `payload`) for the next batch;
        its answer (duplicate?) or its refusal. `context()`: whose trace its
        outbox row carries (called only if it gets one)."""
        try:
            raw = payload.decode()
        except UnicodeDecodeError:  # JSON in UTF-16/32 (json.loads takes it): as parsed
            raw = json.dumps(event)
        delivery = _Delivery(event, raw, context, asyncio.get_running_loop().create_future())
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
    engine = sessions.kw["bind"]
    async with engine.connect() as connection:
        # AUTOCOMMIT: SQLAlchemy issues no BEGIN of its own; the transaction is ours.
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        db = (await connection.get_raw_connection()).driver_connection
        accounts = sorted({str(d.event.get("account") or "") for d in batch} - {""})
        owners = {a: uuid.UUID(t) for a, t in await db.fetch(_OWNERS, accounts)} if accounts else {}
        by_tenant: dict[uuid.UUID, list[int]] = {}
        for i, delivery in enumerate(batch):
            try:
                by_tenant.setdefault(_tenant_of(delivery.event, owners), []).append(i)
            except NotFound as refused:
                answers[i] = refused
        if not by_tenant:
            return answers
        try:
            begin = "BEGIN; "  # with the first tenant's SET LOCAL: one round trip
            if db.is_in_transaction():  # never expected; never inherit one
                begin = "ROLLBACK; BEGIN; "
            for tenant, indexes in by_tenant.items():
                # A UUID (parsed above), so it is safe in the text; transaction-local.
                await db.execute(f"{begin}SET LOCAL app.tenant_id = '{tenant}'")
                begin = ""
                first = {batch[i].event["id"]: i for i in reversed(indexes)}  # a repeat
                for event_id, _ in await db.fetch(_RECORD, *_arrays(batch, first, tenant, now)):
                    answers[first[event_id]] = False
            await db.execute("COMMIT")
        except BaseException:
            # A connection in an unknown transaction state must not be reused.
            await connection.invalidate()
            raise
    return answers


def _arrays(
    batch: list[_Delivery], first: dict[str, int], tenant: uuid.UUID, now: datetime
) -> list[Any]:
    """`_RECORD`'s parameters: one array per column. The payload goes as the
    bytes Stripe signed (JSON text), not parsed and serialised again."""
    events = [batch[i] for i in first.values()]
    work = [_has_work(d.event) for d in events]
    outbox = [d.outbox_row(tenant) for d, w in zip(events, work, strict=True) if w]
    queued = [d.event["id"] for d, w in zip(events, work, strict=True) if w]
    return [
        tenant,
        now,
        [d.event["id"] for d in events],
        [str(d.event.get("type", "")) for d in events],
        [str(d.event.get("account") or "") for d in events],
        [datetime.fromtimestamp(int(d.event.get("created") or 0), UTC) for d in events],
        [d.raw for d in events],
        work,
        queued,
        [r["id"] for r in outbox],
        [r["subject"] for r in outbox],
        [r["payload"] for r in outbox],
        [json.dumps(r["headers"]) for r in outbox],
    ]


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
