"""The housekeeping job identity declares: purge and prune, every tenant."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from portal.identity.v1 import identity_pb2 as pb

from services.chassis.jobs import JobRunner
from services.identity.__main__ import SPEC
from services.identity.jobs import housekeeping
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
    runner = JobRunner(
        identity.engine,
        [housekeeping(sessions=identity.sessions, interval=0.05)],
        namespace="identity",
    )
    job = asyncio.create_task(runner.run(stop))
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


def test_the_service_declares_the_job_once_across_replicas_at_its_interval():
    deps = SimpleNamespace(sessions=object(), settings=SimpleNamespace(purge_interval_seconds=60))
    (job,) = SPEC.jobs(deps)  # type: ignore[arg-type]
    assert (job.name, job.interval, job.singleton, job.channel) == (
        "housekeeping",
        60,
        True,
        None,
    )
