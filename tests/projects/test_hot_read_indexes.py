"""Migration 0004's indexes serve the hot reads on a grown tenant: with 1,000
projects (and 3 notes each) the staff list, a client's list and the board's
latest notes read their index under row-level security, never a sequential
scan of the tenant; the lists read it in their own order (no top-N sort of
the tenant). The notes may sort one project's few rows: that does not grow."""

from __future__ import annotations

import uuid

from sqlalchemy import text

from services.chassis.db import make_engine

SEED = """
INSERT INTO project (id, tenant_id, request_id, reference, name, customer_id, site_address,
                     stage, created_at, stage_changed_at)
SELECT gen_random_uuid(), CAST(:t AS uuid), 'g' || g, 'G-' || g, 'P' || g,
       (ARRAY[CAST(:c AS uuid), gen_random_uuid()])[1 + g % 2], '', 1,
       now() - g * interval '1 minute', now()
FROM generate_series(1, 1000) AS g
"""
NOTES = """
INSERT INTO stage_change (id, tenant_id, project_id, request_id, from_stage, to_stage,
                          changed_by, reason, client_note, changed_at)
SELECT gen_random_uuid(), tenant_id, id, 'n' || id || n, 1, 2, 'x', '', 'note', now()
FROM project, generate_series(1, 3) AS n
"""
QUERIES = {
    "ix_project_tenant_id_created_at_id": (
        "SELECT * FROM project ORDER BY created_at DESC, id DESC LIMIT 51"
    ),
    "ix_project_tenant_id_customer_id_created_at_id": (
        "SELECT * FROM project WHERE customer_id = CAST(:c AS uuid) "
        "ORDER BY created_at DESC, id DESC LIMIT 51"
    ),
    "ix_stage_change_project_id_changed_at_id": (
        "SELECT * FROM stage_change WHERE project_id = CAST(:p AS uuid) AND client_note <> '' "
        "ORDER BY changed_at DESC, id LIMIT 5"
    ),
}


async def test_hot_reads_use_their_index_without_a_sort(projects_url: str):
    tenant, customer = uuid.uuid4(), uuid.uuid4()
    engine = make_engine(projects_url, pool_size=1)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(tenant)}
            )
            await conn.execute(text(SEED), {"t": str(tenant), "c": str(customer)})
            await conn.execute(text(NOTES))
        async with engine.begin() as conn:
            await conn.execute(text("ANALYZE project"))
            await conn.execute(text("ANALYZE stage_change"))
        async with engine.begin() as conn:
            await conn.execute(
                text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(tenant)}
            )
            some = await conn.scalar(text("SELECT id FROM project LIMIT 1"))
            for index, sql in QUERIES.items():
                plan = "\n".join(
                    (
                        await conn.execute(
                            text(f"EXPLAIN (COSTS OFF) {sql}"),
                            {"c": str(customer), "p": str(some)},
                        )
                    ).scalars()
                )
                assert index in plan, plan
                if index.startswith("ix_project"):
                    assert "Sort" not in plan, plan
                assert "Seq Scan" not in plan, plan
    finally:
        await engine.dispose()
