"""Migration 0003 on a database with projects in it: each gets its five stage
rows and the new columns' defaults."""

from __future__ import annotations

import uuid

from sqlalchemy import text

from deploy.infra import Postgres
from services.chassis.db import make_engine
from services.chassis.migrations import upgrade


async def test_existing_projects_get_their_stages(postgres: Postgres, unique: str):
    name = f"projects_m{unique}"
    url = postgres.ensure_service_database(name, "migration-test-password")
    tenant, project = uuid.uuid4(), uuid.uuid4()
    try:
        upgrade("projects", url, "0002")
        engine = make_engine(url, pool_size=1)
        async with engine.begin() as conn:
            await conn.execute(
                text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(tenant)}
            )
            await conn.execute(
                text(
                    "INSERT INTO project (id, tenant_id, request_id, reference, name, "
                    "customer_id, site_address, stage, created_at, stage_changed_at) "
                    "VALUES (:id, :t, 'r1', 'PRJ-0001', 'Old job', :c, '', 3, "
                    "'2026-01-05 23:30+00', '2026-02-10 08:00+00')"
                ),
                {"id": project, "t": tenant, "c": uuid.uuid4()},
            )
        upgrade("projects", url)
        async with engine.begin() as conn:
            await conn.execute(
                text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(tenant)}
            )
            rows = (
                await conn.execute(
                    text(
                        "SELECT stage, actual_start::text AS started FROM project_stage "
                        "WHERE project_id = :p ORDER BY stage"
                    ),
                    {"p": project},
                )
            ).all()
            forced = (
                await conn.execute(
                    text(
                        "SELECT relname, relforcerowsecurity FROM pg_class WHERE relname IN "
                        "('project', 'project_stage', 'proposal', 'proposal_signature', "
                        "'waiting_item', 'room', 'product_line', 'variation')"
                    )
                )
            ).all()
            currency, approved = (
                await conn.execute(
                    text("SELECT currency, approved_variations_minor FROM project WHERE id = :p"),
                    {"p": project},
                )
            ).one()
        await engine.dispose()
        assert [(r.stage, r.started) for r in rows] == [
            (1, "2026-01-05"),
            (2, None),
            (3, "2026-02-10"),
            (4, None),
            (5, None),
        ]
        assert (currency, approved) == ("USD", 0)
        # Row-level security is forced again on project, and on every new table.
        assert len(forced) == 8 and all(r.relforcerowsecurity for r in forced), forced
    finally:
        postgres.drop_database(name)
