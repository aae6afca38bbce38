"""Sign-in and link requests find an address by its index under row-level
security: `email_key` (lower(email), stored) is the index condition, not a
filter over every staff user or contact of the tenant, as `lower(email) = $1`
was (lower() is not leakproof, so it could not run before the tenant
policy). Asked of the statements the service runs, on a tenant of 300
customers (600 contacts) and 100 staff users, analysed."""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.chassis.db import make_engine
from services.identity.models import Contact, Customer, StaffUser, Tenant
from services.identity.service.common import contact_by_email, staff_by_email


async def _seed(engine, tenant: uuid.UUID) -> None:
    async with AsyncSession(engine) as session, session.begin():
        session.add(Tenant(id=tenant, slug=f"t{tenant.hex[:12]}", display_name="Plan"))
        await session.flush()
        await session.execute(
            text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(tenant)}
        )
        for i in range(100):
            session.add(
                StaffUser(
                    tenant_id=tenant,
                    request_id=f"s{i}",
                    email=f"Staff{i}@Example.com",
                    full_name=f"Staff {i}",
                    roles=["staff"],
                )
            )
        for i in range(300):
            customer = Customer(tenant_id=tenant, request_id=f"c{i}", name=f"C {i}")
            session.add(customer)
            await session.flush()
            for j in range(2):
                session.add(
                    Contact(
                        tenant_id=tenant,
                        customer_id=customer.id,
                        email=f"Person{i}.{j}@Example.com",
                        full_name=f"P {i} {j}",
                        role="approver",
                    )
                )
    async with engine.begin() as conn:
        for table in ("tenant", "staff_user", "customer", "contact"):
            await conn.execute(text(f"ANALYZE {table}"))


async def test_addresses_are_index_conditions_under_rls(identity_url: str):
    engine = make_engine(identity_url, pool_size=1)
    tenant = uuid.uuid4()
    try:
        await _seed(engine, tenant)
        async with engine.begin() as conn:
            await conn.execute(
                text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(tenant)}
            )
            # A tenant this small fits in a few pages: a sequential scan is
            # cheaper and hides what matters, whether the address can be
            # looked up by its index at all.
            await conn.execute(text("SET LOCAL enable_seqscan = off"))
            for stmt, index in (
                (staff_by_email("staff7@example.com"), "ix_staff_user_tenant_id_email_key"),
                (contact_by_email("person7.1@example.com"), "uq_contact_tenant_id_email_key"),
            ):
                sql = stmt.compile(engine.sync_engine, compile_kwargs={"literal_binds": True})
                plan = "\n".join((await conn.execute(text(f"EXPLAIN (COSTS OFF) {sql}"))).scalars())
                assert f"Index Scan using {index}" in plan, plan
                assert "(email_key)::text = '" in plan.split("Filter")[0], plan
            found = (await conn.execute(contact_by_email("person7.1@example.com"))).all()
            assert len(found) == 1 and "Person7.1@Example.com" in found[0], found
    finally:
        await engine.dispose()
