"""Row-level security is on (and forced) for every tenant table."""

from __future__ import annotations

import uuid

from sqlalchemy import text

from deploy.infra import Postgres
from services.chassis.db import UnitOfWork, make_engine
from services.chassis.migrations import upgrade
from tests.documents.conftest import Documents
from tests.grpc_service import as_tenant, migrated_database

TENANT_TABLES = (
    "project_ref",
    "folder",
    "document",
    "document_version",
    "document_audit",
    "project_audience",
)


async def test_tenant_tables_have_forced_row_level_security(local_documents: Documents) -> None:
    async with UnitOfWork(local_documents.sessions, None) as uow:
        rows = (
            await uow.session.execute(
                text(
                    "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class "
                    "WHERE relname = ANY(:names)"
                ),
                {"names": list(TENANT_TABLES)},
            )
        ).all()
        superuser = await uow.session.scalar(
            text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        )
    assert sorted(r[0] for r in rows) == sorted(TENANT_TABLES)
    assert all(r[1] and r[2] for r in rows)
    assert superuser is False  # or RLS would prove nothing


async def test_without_a_tenant_no_document_row_is_visible(local_acme) -> None:
    project = await local_acme.project()
    await local_acme.upload(project)
    async with UnitOfWork(local_acme.svc.sessions, None) as uow:
        count = await uow.session.scalar(text("SELECT count(*) FROM document"))
    assert count == 0


async def test_the_migration_matches_the_models(local_documents: Documents) -> None:
    from services.documents.models import Base

    async with UnitOfWork(local_documents.sessions, None) as uow:
        rows = (
            await uow.session.execute(
                text(
                    "SELECT table_name, column_name FROM information_schema.columns "
                    "WHERE table_schema = 'public' AND table_name = ANY(:names)"
                ),
                {"names": list(Base.metadata.tables)},
            )
        ).all()
    in_db = {(t, c) for t, c in rows}
    in_models = {(t.name, c.name) for t in Base.metadata.sorted_tables for c in t.columns}
    assert in_db == in_models


async def test_projects_known_before_the_audience_copy_stay_open_to_every_contact(
    postgres: Postgres,
) -> None:
    """Migration 0005 starts the copy from project_ref (every tenant's), dated
    at creation, so projects' own announcement (newer) replaces it."""
    tenant, project, customer = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    with migrated_database(postgres, "documents", "0004") as url:
        engine = make_engine(url, pool_size=1)
        async with as_tenant(engine, tenant) as conn:
            await conn.execute(
                text(
                    "INSERT INTO project_ref (id, tenant_id, customer_id, name, created_at) "
                    "VALUES (:p, :t, :c, 'Old job', '2026-01-05 09:00+00')"
                ),
                {"p": project, "t": tenant, "c": customer},
            )
        upgrade("documents", url)
        async with as_tenant(engine, tenant) as conn:
            row = (
                await conn.execute(
                    text(
                        "SELECT customer_id, visible_contact_ids, changed_at::text AS at "
                        "FROM project_audience WHERE project_id = :p"
                    ),
                    {"p": project},
                )
            ).one()
            forced = (
                await conn.execute(
                    text(
                        "SELECT relname FROM pg_class WHERE relforcerowsecurity "
                        "AND relname IN ('project_ref', 'project_audience')"
                    )
                )
            ).scalars()
            forced_tables = sorted(forced)
        await engine.dispose()
    assert (row.customer_id, row.visible_contact_ids) == (customer, [])
    assert row.at.startswith("2026-01-05 09:00")
    assert forced_tables == ["project_audience", "project_ref"]


async def test_projects_known_before_0006_get_the_default_folders(postgres: Postgres) -> None:
    """Folders were made on a project's first listing; 0006 makes them for every
    project we know (every tenant's), beside any folder already there."""
    tenant, listed, unlisted = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    with migrated_database(postgres, "documents", "0005") as url:
        engine = make_engine(url, pool_size=1)
        async with as_tenant(engine, tenant) as conn:
            for project in (listed, unlisted):
                await conn.execute(
                    text(
                        "INSERT INTO project_ref (id, tenant_id, customer_id, name, created_at) "
                        "VALUES (:p, :t, :t, 'Old job', now())"
                    ),
                    {"p": project, "t": tenant},
                )
            await conn.execute(
                text(
                    "INSERT INTO folder (id, tenant_id, project_id, name, position) "
                    "VALUES (gen_random_uuid(), :t, :p, 'Proposals', 0), "
                    "(gen_random_uuid(), :t, :p, 'Permits', 4)"
                ),
                {"p": listed, "t": tenant},
            )
        upgrade("documents", url)
        async with as_tenant(engine, tenant) as conn:
            rows = (
                await conn.execute(
                    text("SELECT project_id, name FROM folder ORDER BY project_id, position")
                )
            ).all()
        await engine.dispose()
    names = {p: [n for q, n in rows if q == p] for p in (listed, unlisted)}
    assert names[listed] == ["Proposals", "Schematics", "Handover", "Manuals", "Permits"]
    assert names[unlisted] == ["Proposals", "Schematics", "Handover", "Manuals"]
