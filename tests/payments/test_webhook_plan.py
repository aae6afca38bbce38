"""The after-commit statement of a webhook batch reads by key under
row-level security: each event through the primary key, each payment through
its intent id. Written with the intent id taken out of the payload inside the
join, the jsonb operator (not leakproof) had to wait for payment's RLS
policy, so every event scanned all the tenant's payments; and an index on
stripe_event's tenant_id let the planner fold the RLS qual into the id
lookup: at 1,000 webhooks a second that statement was most of PostgreSQL's
CPU (bench/HISTORY.md, 2026-12-07). The seed is left unanalysed, as a
table growing at webhook rates is between autovacuum's passes."""

from __future__ import annotations

import uuid

from sqlalchemy import text

from services.chassis.db import make_engine
from services.payments.service.webhooks import _PENDING

SEED = """
INSERT INTO stripe_event (id, tenant_id, type, account, created, payload, received_at)
SELECT 'evt_plan' || g, CAST(:t AS uuid), 'payment_intent.succeeded', 'acct_plan', now(),
       jsonb_build_object('data', jsonb_build_object('object',
           jsonb_build_object('id', 'pi_plan' || g, 'object', 'payment_intent'))),
       now()
FROM generate_series(1, 5000) AS g
"""


async def test_the_batch_pass_reads_events_and_payments_by_key(payments_url: str):
    tenant = uuid.uuid4()
    engine = make_engine(payments_url, pool_size=1)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(tenant)}
            )
            await conn.execute(text(SEED), {"t": str(tenant)})
            # The planner's choice where it has one: a key lookup or nothing.
            await conn.execute(text("SET LOCAL enable_seqscan = off"))
            sql = str(_PENDING.compile(compile_kwargs={"literal_binds": False}))
            plan = "\n".join(
                (
                    await conn.execute(
                        text(f"EXPLAIN (COSTS OFF) {sql}"),
                        {
                            "ids": [f"evt_plan{g}" for g in range(1, 21)],
                            "at": None,
                            "intent_events": ["payment_intent.succeeded"],
                        },
                    )
                ).scalars()
            )
            await conn.rollback()
        assert "ix_stripe_event_tenant_id" not in plan, plan
        assert "Index Cond: ((id)::text = ANY" in plan, plan
        # The payment is found by its intent id, not filtered out of the tenant's.
        assert "Index Scan using uq_payment_intent on payment" in plan, plan
        assert "Index Cond: ((stripe_payment_intent_id)::text = l.intent_id)" in plan, plan
        assert "Join Filter" not in plan, plan
    finally:
        await engine.dispose()
