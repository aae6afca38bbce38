"""Migration 0003 on a database with projects in it: each gets its five stage
rows and the new columns' defaults."""

from __future__ import annotations

import uuid

from portal.projects.v1 import events_pb2
from sqlalchemy import text

from deploy.infra import Postgres
from services.chassis.db import make_engine
from services.chassis.events import TENANT_HEADER, parse_envelope
from services.chassis.migrations import upgrade
from tests.grpc_service import as_tenant, migrated_database


async def test_existing_projects_get_their_stages(postgres: Postgres):
    tenant, project = uuid.uuid4(), uuid.uuid4()
    with migrated_database(postgres, "projects", "0002") as url:
        engine = make_engine(url, pool_size=1)
        async with as_tenant(engine, tenant) as conn:
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
        async with as_tenant(engine, tenant) as conn:
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


async def test_projects_that_already_list_contacts_announce_them_once(postgres: Postgres):
    """Migration 0006: documents and notifications keep copies that start from
    every contact; a list set before they kept one reaches them by the outbox."""
    tenant, listed, open_to_all, jane = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), str(uuid.uuid4())
    with migrated_database(postgres, "projects", "0005") as url:
        engine = make_engine(url, pool_size=1)
        async with as_tenant(engine, tenant) as conn:
            for pid, contacts in ((listed, [jane]), (open_to_all, [])):
                await conn.execute(
                    text(
                        "INSERT INTO project (id, tenant_id, request_id, reference, name, "
                        "customer_id, site_address, stage, created_at, stage_changed_at, "
                        "visible_contact_ids) VALUES (:id, :t, :r, :r, 'Job', :c, '', "
                        "1, now(), now(), :v)"
                    ),
                    {"id": pid, "t": tenant, "r": str(pid)[:20], "c": uuid.uuid4(), "v": contacts},
                )
        upgrade("projects", url)
        async with engine.begin() as conn:
            rows = (
                await conn.execute(
                    text("SELECT tenant_id, subject, payload, headers FROM outbox_message")
                )
            ).all()
            forced = await conn.scalar(
                text("SELECT relforcerowsecurity FROM pg_class WHERE relname = 'project'")
            )
        await engine.dispose()
    assert [(r.tenant_id, r.subject) for r in rows] == [
        (tenant, "projects.project.audience_changed")
    ]
    announced = events_pb2.ProjectAudienceChanged()
    assert parse_envelope(rows[0].payload).payload.Unpack(announced)
    assert (announced.project_id, list(announced.visible_contact_ids)) == (str(listed), [jane])
    assert rows[0].headers[TENANT_HEADER] == str(tenant)
    assert forced is True


async def test_the_outbox_sequence_numbers_rows_already_waiting_in_the_order_written(
    postgres: Postgres,
):
    """A database from before outbox_message.seq (its column dropped to make
    one): the rows still waiting are numbered in the order they were written,
    and rows written after come after them."""
    tenant = uuid.uuid4()
    insert = text(
        "INSERT INTO outbox_message (id, tenant_id, subject, payload, headers) "
        "VALUES (:id, :t, 'projects.project.created', '\\x00', '{}')"
    )
    with migrated_database(postgres, "projects", "0012") as url:
        engine = make_engine(url, pool_size=1)
        async with as_tenant(engine, tenant) as conn:
            await conn.execute(text("ALTER TABLE outbox_message DROP COLUMN seq"))
            waiting = [uuid.uuid4() for _ in range(3)]
            for row_id in waiting:
                await conn.execute(insert, {"id": row_id, "t": tenant})
        upgrade("projects", url)
        async with as_tenant(engine, tenant) as conn:
            later = uuid.uuid4()
            await conn.execute(insert, {"id": later, "t": tenant})
            ordered = (await conn.scalars(text("SELECT id FROM outbox_message ORDER BY seq"))).all()
            nulls = await conn.scalar(text("SELECT count(*) FROM outbox_message WHERE seq IS NULL"))
        await engine.dispose()
    assert ordered == [*waiting, later]
    assert nulls == 0
