"""Declared jobs against real PostgreSQL (and NATS for the role): they keep
running through failures, wake on NOTIFY, run alone where declared
singleton, and the jobs role runs them and nothing else."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from nats.js.errors import NotFoundError
from sqlalchemy import func, select, text

from services.chassis.consumer import Subscription
from services.chassis.db import UnitOfWork, outbox_message
from services.chassis.events import stream_for
from services.chassis.jobs import Job, JobRunner
from services.chassis.runtime import (
    ConfigurationError,
    ServiceSpec,
    check_configuration,
    run_service,
)
from services.chassis.settings import ServiceSettings, service_config
from services.chassis.topology import ensure_stream
from tests.event_types import event_type


async def eventually(predicate, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


async def running(runner: JobRunner):
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop))
    await asyncio.wait_for(runner.listening.wait(), 10)
    return stop, task


async def test_an_interval_job_runs_repeatedly_and_survives_a_failing_pass(scratch_db):
    passes = 0

    async def flaky() -> None:
        nonlocal passes
        passes += 1
        if passes == 2:
            raise RuntimeError("the database went away for a moment")

    stop, task = await running(
        JobRunner(scratch_db.engine, [Job.every(0.05, flaky)], namespace="t")
    )
    try:
        await eventually(lambda: passes >= 5)  # the failure at pass 2 did not end it
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)  # and it stops when asked
    assert not task.exception()


async def test_a_notify_job_wakes_on_notify_well_before_its_fallback(scratch_db, unique):
    channel = f"wake_{unique}"
    woken = asyncio.Event()
    passes = 0

    async def on_wake() -> None:
        nonlocal passes
        passes += 1
        if passes > 1:
            woken.set()

    job = Job.on_notify(channel, on_wake, fallback_seconds=30)
    stop, task = await running(JobRunner(scratch_db.engine, [job], namespace="t"))
    try:
        await eventually(lambda: passes == 1)  # the first pass, at start
        started = asyncio.get_running_loop().time()
        async with scratch_db.engine.begin() as conn:
            await conn.execute(text(f"NOTIFY {channel}"))
        await asyncio.wait_for(woken.wait(), 5)
        elapsed = asyncio.get_running_loop().time() - started
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)
    assert elapsed < 1.5, elapsed  # a fraction of the 30 s fallback


async def test_a_pass_reporting_more_work_runs_again_at_once(scratch_db):
    backlog = 5

    async def drain_one() -> bool:
        nonlocal backlog
        backlog -= 1
        return backlog > 0

    stop, task = await running(
        JobRunner(scratch_db.engine, [Job.every(60, drain_one)], namespace="t")
    )
    try:
        await eventually(lambda: backlog == 0, timeout=3)  # not five minutes of ticks
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)


async def test_two_runners_of_a_singleton_job_never_overlap(scratch_db, unique):
    inside = 0
    overlaps = 0
    runs = 0

    async def sweep() -> None:
        nonlocal inside, overlaps, runs
        inside += 1
        overlaps += inside > 1
        runs += 1
        await asyncio.sleep(0.05)
        inside -= 1

    def replica() -> JobRunner:
        return JobRunner(
            scratch_db.engine,
            [Job.every(0.01, sweep, name="sweep", singleton=True)],
            namespace=f"svc{unique}",
        )

    a, b = replica(), replica()
    stop_a, task_a = await running(a)
    stop_b, task_b = await running(b)
    try:
        await eventually(lambda: runs >= 10)
    finally:
        stop_a.set()
        stop_b.set()
        await asyncio.wait_for(asyncio.gather(task_a, task_b), 5)
    assert overlaps == 0


class JobTestSettings(ServiceSettings):
    model_config = service_config("JOBTEST_")

    documents_target: str = ""


async def test_the_jobs_role_runs_the_jobs_and_nothing_else(
    scratch_db, nats_server, nc, keypair, unique
):
    subject = f"t{unique}.thing.happened"
    thing = event_type(subject)
    ran = asyncio.Event()
    started: list[str] = []

    async def job_pass() -> None:
        ran.set()

    async def handler(uow, event) -> None:
        started.append("consumer")

    def register(server, deps) -> None:
        started.append("grpc")

    spec = ServiceSpec(
        name=f"jobtest{unique}",
        settings=JobTestSettings,
        grpc_service_names=["portal.test.v1.Nothing"],
        register_grpc=register,
        subscriptions=lambda deps: [Subscription(thing, handler)],
        jobs=lambda deps: [Job.every(0.05, job_pass, name="tick")],
    )
    settings = JobTestSettings(
        database_url=scratch_db.url,
        nats_url=nats_server.url,
        principal_public_key=keypair[1],
        role="jobs",
    )
    # An event waits in the outbox: a relay, if one ran, would publish it.
    async with UnitOfWork(scratch_db.sessions, str(uuid.uuid4())) as uow:
        uow.publish(thing(amount_minor=1), aggregate_type="thing", aggregate_id="1")
        await uow.commit()

    stop = asyncio.Event()
    service = asyncio.create_task(run_service(spec, settings, stop=stop))
    try:
        await asyncio.wait_for(ran.wait(), 10)
        await asyncio.sleep(1.5)  # longer than the relay's fallback poll
    finally:
        stop.set()
        await asyncio.wait_for(service, 20)

    assert started == []  # no gRPC server, no consumer
    async with scratch_db.sessions() as s:
        waiting = await s.scalar(
            select(func.count())
            .select_from(outbox_message)
            .where(outbox_message.c.published_at.is_(None))
        )
    assert waiting == 1  # no relay
    js = nc.jetstream()
    await ensure_stream(js, stream_for(subject))
    with pytest.raises(NotFoundError):
        await js.consumer_info(stream_for(subject), f"{spec.name}--{subject.replace('.', '-')}")


def test_a_service_missing_a_target_it_calls_refuses_to_start_naming_the_variable(keypair):
    spec = ServiceSpec(
        name="jobtest",
        settings=JobTestSettings,
        calls=("documents",),
        grpc_service_names=[],
        register_grpc=lambda server, deps: None,
    )
    settings = JobTestSettings(database_url="postgresql+asyncpg://x/y", principal_public_key="k")
    with pytest.raises(ConfigurationError) as refused:
        check_configuration(spec, settings)
    message = str(refused.value)
    assert "JOBTEST_DOCUMENTS_TARGET" in message and "JOBTEST_PRINCIPAL_PRIVATE_KEY" in message
    configured = settings.model_copy(
        update={"documents_target": "documents:50051", "principal_private_key": keypair[0]}
    )
    check_configuration(spec, configured)  # nothing missing: no error


def test_a_declared_call_without_its_setting_is_refused_at_declaration():
    with pytest.raises(TypeError, match="identity_target"):
        ServiceSpec(
            name="jobtest",
            settings=JobTestSettings,
            calls=("identity",),
            grpc_service_names=[],
            register_grpc=lambda server, deps: None,
        )
