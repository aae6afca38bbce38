"""Cost growth: a tenant with 1,000 projects, 5,000 documents and 50 customers.

Seeded with plain SQL through each service's own role (`suite.database_urls`,
`app.tenant_id` set: row-level security applies to the seed as to the
services), after the empty-database measurements. The new rows belong to 50
fresh customers and are older than the demo project, so the demo client's
pages show what they showed before: whatever costs more now is the cost of
the data around it (a scan, a sort, an N+1), not a longer page.

`explain()` returns the plans of the hot queries on the grown tenant, so the
report can show which index each uses (and that none sorts the tenant)."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg

PROJECTS, DOCUMENTS, CUSTOMERS = 1_000, 5_000, 50
NOTES_PER_PROJECT = 3

_PROJECTS_SQL = """
INSERT INTO project (id, tenant_id, request_id, reference, name, customer_id, site_address,
                     stage, created_at, stage_changed_at, currency)
SELECT gen_random_uuid(), $1::uuid, 'growth-' || g, 'GRW-' || lpad(g::text, 5, '0'),
       'Growth project ' || g, ($2::uuid[])[1 + g % array_length($2::uuid[], 1)],
       g || ' Growth Street', 1 + g % 5, now() - interval '1 day' - g * interval '1 hour',
       now() - interval '1 day', 'USD'
FROM generate_series(1, $3::int) AS g
RETURNING id
"""
_STAGES_SQL = """
INSERT INTO project_stage (id, tenant_id, project_id, stage, client_note)
SELECT gen_random_uuid(), $1::uuid, p, s, ''
FROM unnest($2::uuid[]) AS p, generate_series(1, 5) AS s
"""
_NOTES_SQL = """
INSERT INTO stage_change (id, tenant_id, project_id, request_id, from_stage, to_stage,
                          changed_by, reason, client_note, changed_at)
SELECT gen_random_uuid(), $1::uuid, p, 'growth-' || p || '-' || n, n, n + 1, 'bench',
       'growth', 'Note ' || n, now() - interval '1 day' + n * interval '1 minute'
FROM unnest($2::uuid[]) AS p, generate_series(1, $3::int) AS n
"""
_REFS_SQL = """
INSERT INTO project_ref (id, tenant_id, customer_id, name, created_at)
SELECT p, $1::uuid, c, 'Growth project', now() - interval '1 day'
FROM unnest($2::uuid[], $3::uuid[]) AS t(p, c)
"""
_DOCS_SQL = """
WITH docs AS (
  INSERT INTO document (id, tenant_id, project_id, request_id, title, description,
                        client_visible, current_version, created_by, created_at,
                        visibility_changed_by)
  SELECT gen_random_uuid(), $1::uuid, ($2::uuid[])[1 + g % array_length($2::uuid[], 1)],
         'growth-doc-' || g, 'Growth document ' || g, '', g % 2 = 0, 1, 'bench',
         now() - interval '1 day' - g * interval '1 minute', ''
  FROM generate_series(1, $3::int) AS g
  RETURNING id
)
INSERT INTO document_version (id, tenant_id, document_id, request_id, number, filename,
                              content_type, size_bytes, sha256, blob_id, uploaded_by)
SELECT gen_random_uuid(), $1::uuid, id, 'growth-ver-' || id, 1, 'growth.pdf',
       'application/pdf', 1000, repeat('0', 64), 'growth', 'bench'
FROM docs
"""


async def _tenant_conn(dsn: str, tenant_id: str) -> asyncpg.Connection:
    conn = await asyncpg.connect(dsn)
    await conn.execute("SELECT set_config('app.tenant_id', $1, false)", tenant_id)
    return conn


async def _seed(projects_dsn: str, documents_dsn: str, tenant_id: str) -> dict:
    customers = [uuid.uuid4() for _ in range(CUSTOMERS)]
    pconn = await _tenant_conn(projects_dsn, tenant_id)
    try:
        async with pconn.transaction():
            rows = await pconn.fetch(_PROJECTS_SQL, tenant_id, customers, PROJECTS)
            ids = [r["id"] for r in rows]
            await pconn.execute(_STAGES_SQL, tenant_id, ids)
            await pconn.execute(_NOTES_SQL, tenant_id, ids, NOTES_PER_PROJECT)
            owners = await pconn.fetch(
                "SELECT id, customer_id FROM project WHERE id = ANY($1::uuid[])", ids
            )
        await pconn.execute("ANALYZE")
    finally:
        await pconn.close()
    dconn = await _tenant_conn(documents_dsn, tenant_id)
    try:
        async with dconn.transaction():
            await dconn.execute(
                _REFS_SQL,
                tenant_id,
                [r["id"] for r in owners],
                [r["customer_id"] for r in owners],
            )
            await dconn.execute(_DOCS_SQL, tenant_id, ids, DOCUMENTS)
        await dconn.execute("ANALYZE")
    finally:
        await dconn.close()
    return {"projects": len(ids), "documents": DOCUMENTS, "customers": CUSTOMERS}


def seed(projects_dsn: str, documents_dsn: str, tenant_id: str) -> dict:
    return asyncio.run(_seed(projects_dsn, documents_dsn, tenant_id))


# The hot queries as the services send them (simplified to one parameter); RLS
# adds the tenant predicate, as in the services.
_PLANS = {
    "projects: staff list, first page": (
        "projects",
        "SELECT * FROM project ORDER BY created_at DESC, id DESC LIMIT 51",
        "",
    ),
    "projects: a client's list": (
        "projects",
        "SELECT * FROM project WHERE customer_id = $1::uuid "
        "ORDER BY created_at DESC, id DESC LIMIT 51",
        "customer",
    ),
    "projects: the board's latest notes": (
        "projects",
        "SELECT * FROM stage_change WHERE project_id = $1::uuid AND client_note <> '' "
        "ORDER BY changed_at DESC, id LIMIT 5",
        "project",
    ),
    "documents: a project's documents": (
        "documents",
        "SELECT * FROM document WHERE project_id = $1::uuid AND deleted_at IS NULL "
        "ORDER BY created_at DESC, id",
        "project",
    ),
}


async def _explain(dsns: dict[str, str], tenant_id: str, ids: dict[str, str]) -> dict:
    out = {}
    for label, (service, sql, param) in _PLANS.items():
        conn = await _tenant_conn(dsns[service], tenant_id)
        try:
            rows = await conn.fetch(f"EXPLAIN (COSTS OFF) {sql}", *([ids[param]] if param else []))
            out[label] = [r[0] for r in rows]
        finally:
            await conn.close()
    return out


def explain(dsns: dict[str, str], tenant_id: str, *, customer_id: str, project_id: str) -> dict:
    """Plan lines per hot query (dsns: projects and documents, plain postgresql://)."""
    ids = {"customer": customer_id, "project": project_id}
    return asyncio.run(_explain(dsns, tenant_id, ids))
