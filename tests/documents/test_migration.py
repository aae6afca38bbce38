"""Row-level security is on (and forced) for every tenant table."""

from __future__ import annotations

from sqlalchemy import text

from services.chassis.db import UnitOfWork
from tests.documents.conftest import Documents

TENANT_TABLES = ("project_ref", "folder", "document", "document_version", "document_audit")


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
