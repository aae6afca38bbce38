"""The housekeeping job identity runs beside its server: purge and prune, every tenant."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from portal.identity.v1 import identity_pb2 as pb

from services.identity.__main__ import SPEC
from services.identity.jobs import run_housekeeping
from tests.identity.conftest import World, new_world


async def test_the_job_purges_due_customers_in_every_tenant_and_prunes_old_records(
    world: World, identity
):
    other = await new_world(identity)
    for w in (world, other):
        await w.change_access(pb.ACCESS_STATE_DELETED)
        await w.identity.sql(
            w.tenant_id,
            "UPDATE customer SET purge_after = now() - interval '1 minute' WHERE id = :c",
            c=w.customer.id,
        )
    await world.identity.sql(
        world.tenant_id,
        "INSERT INTO login_failure (id, tenant_id, email, ip, at) VALUES "
        "(gen_random_uuid(), :t, 'old@x.example', '', now() - interval '2 days'), "
        "(gen_random_uuid(), :t, 'new@x.example', '', now())",
        t=world.tenant_id,
    )
    stop = asyncio.Event()
    job = asyncio.create_task(run_housekeeping(stop, sessions=identity.sessions, interval=0.05))
    try:
        for _ in range(100):
            states = [(await w.get_customer()).access_state for w in (world, other)]
            if states == [pb.ACCESS_STATE_PURGED] * 2:
                break
            await asyncio.sleep(0.05)
        assert states == [pb.ACCESS_STATE_PURGED] * 2
    finally:
        stop.set()
        await asyncio.wait_for(job, timeout=5)
    rows = await world.identity.sql(world.tenant_id, "SELECT email FROM login_failure")
    assert [r.email for r in rows] == ["new@x.example"]


def test_the_service_runs_the_job_in_the_background():
    deps = SimpleNamespace(sessions=object(), settings=SimpleNamespace(purge_interval_seconds=60))
    (task,) = SPEC.background(deps)  # type: ignore[arg-type]
    assert task.func is run_housekeeping and task.keywords["interval"] == 60
