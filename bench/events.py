"""Events: stage change committed -> its notification handled, read back from
the databases after the run (no service code touched), and the bare JetStream
floor on the same nats-server.

Timestamps used (all from the one PostgreSQL server, so one clock):
  outbox_message.created_at  now() of the projects transaction that moved the
                             stage = that transaction's start.
  stage_change.xmin commit   pg_xact_commit_timestamp(): when that transaction
                             wrote its commit record (needs track_commit_timestamp).
  outbox_message.published_at  now() of the relay transaction that published it
                             = the start of the relay pass that picked it up.
  email.created_at           now() of the notifications handler transaction =
                             its start (before it calls identity and renders).
  processed_event.xmin commit  when the handler's transaction committed (the
                             row is written in it and never updated).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import asyncpg
import httpx
from portal.common.v1 import common_pb2
from portal.projects.v1 import events_pb2

from bench import events_where
from bench.noise import CpuWindow, wait_quiet
from bench.procs import ROOT, die_with_parent
from bench.stats import summary
from services.chassis.events import subject_for

STAGES = ("design", "procurement", "install", "commissioning", "handover")
STAGE_CHANGED = subject_for(events_pb2.ProjectStageChanged)
trace_env = events_where.trace_env  # the suite's environment (run.py)


class BenchFailure(RuntimeError):
    """The suite crashed or answered an error: the bench stops, loudly."""


# -- floor ------------------------------------------------------------------------


def jetstream_floor(nats_url: str, *, count: int, rate: float) -> dict:
    py = sys.executable
    consumer = subprocess.Popen(
        [py, "-m", "bench.jsfloor", "consume", "--nats", nats_url, "--count", str(count)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
        preexec_fn=die_with_parent,
    )
    try:
        assert consumer.stdout is not None
        line = consumer.stdout.readline()
        if line.strip() != "ready":
            raise BenchFailure(f"JetStream floor consumer failed: {line}{consumer.stderr.read()}")
        publisher = subprocess.run(
            [
                py,
                "-m",
                "bench.jsfloor",
                "publish",
                "--nats",
                nats_url,
                "--count",
                str(count),
                "--rate",
                str(rate),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
            timeout=count / rate + 60,
        )
        if publisher.returncode != 0:
            raise BenchFailure(f"JetStream floor publisher failed:\n{publisher.stderr}")
        out, err = consumer.communicate(timeout=60)
        if consumer.returncode != 0:
            raise BenchFailure(f"JetStream floor consumer failed:\n{err}")
    finally:
        if consumer.poll() is None:
            consumer.kill()
            consumer.wait(5)
    handled = json.loads(out.strip().splitlines()[-1])
    acks = json.loads(publisher.stdout.strip().splitlines()[-1])
    if handled["received"] != count:
        raise BenchFailure(f"JetStream floor: {handled['received']} of {count} messages arrived")
    return {
        "count": count,
        "rate_per_s": rate,
        "publish_to_handled": summary([ns / 1e6 for ns in handled["handled_ns"]]),
        "publish_with_ack": summary([ns / 1e6 for ns in acks["ack_ns"]]),
    }


# -- the suite ----------------------------------------------------------------------


@dataclass
class SuiteTarget:
    gateway_url: str
    host: str
    token: str
    customer_id: str
    tenant_id: str
    projects_dsn: str
    notifications_dsn: str
    consumer_dsns: dict[str, str]  # every consumer of the stage event (events_where)
    trace_dir: Path | None  # BENCH_TRACE=1: where the suite's span files are


def _dsn(sqlalchemy_url: str) -> str:
    return sqlalchemy_url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def _create_projects(client: httpx.AsyncClient, t: SuiteTarget, n: int) -> list[str]:
    ids = []
    for i in range(n):
        r = await client.post(
            "/api/v1/projects",
            json={
                "name": f"Bench project {i:03d}",
                "customer_id": t.customer_id,
                "site_address": f"{i} Bench Street",
            },
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
        if r.status_code != 201:
            raise BenchFailure(f"POST /api/v1/projects answered {r.status_code}: {r.text[:500]}")
        ids.append(r.json()["id"])
    return ids


MAX_IN_FLIGHT = 8  # moves awaiting their answer; beyond it the schedule waits (slips)


async def _move(client: httpx.AsyncClient, project_id: str, stage: str) -> tuple[float, int, str]:
    t0 = time.perf_counter()
    try:
        r = await client.post(
            f"/api/v1/projects/{project_id}/stage",
            json={"stage": stage},
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
    except httpx.HTTPError as exc:
        return (time.perf_counter() - t0) * 1000, 0, f"{type(exc).__name__}: {exc}"
    return (time.perf_counter() - t0) * 1000, r.status_code, r.text[:500]


async def _drive(t: SuiteTarget, *, projects: int, rate: float) -> dict:
    headers = {"Host": t.host, "Authorization": f"Bearer {t.token}"}
    async with httpx.AsyncClient(
        base_url=t.gateway_url, headers=headers, timeout=15, trust_env=False
    ) as client:
        ids = await _create_projects(client, t, projects)
        await asyncio.sleep(1.0)  # let the project.created events drain first
        plan = [(pid, stage) for stage in STAGES[1:] for pid in ids]
        loop = asyncio.get_running_loop()
        start = loop.time() + 0.1
        started_at = time.time()
        # Paced by the answers too: a busy suite slows the schedule down instead
        # of piling up requests until they time out.
        slots = asyncio.Semaphore(MAX_IN_FLIGHT)

        async def paced(pid: str, stage: str) -> tuple[float, int, str]:
            try:
                return await _move(client, pid, stage)
            finally:
                slots.release()

        tasks = []
        for i, (pid, stage) in enumerate(plan):
            delay = start + i / rate - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            await slots.acquire()
            tasks.append(asyncio.create_task(paced(pid, stage)))
        results = await asyncio.gather(*tasks)
        seconds = time.time() - started_at
    failed = [(pid, stage, r) for (pid, stage), r in zip(plan, results, strict=True) if r[1] != 200]
    by_status: dict[str, int] = {}
    for _pid, _stage, (_ms, status, _body) in failed:
        by_status[str(status)] = by_status.get(str(status), 0) + 1
    return {
        "project_ids": ids,
        "moves": len(plan),
        "ok_moves": len(plan) - len(failed),
        "failed_by_status": by_status,  # "0" = no answer (a socket error or our timeout)
        "first_failure": (
            f"POST /api/v1/projects/{failed[0][0]}/stage {{stage: {failed[0][1]}}} -> "
            f"{failed[0][2][1]} {failed[0][2][2]}"
            if failed
            else ""
        ),
        "seconds": seconds,
        "http_ms": [r[0] for r in results],
    }


async def _tenant_conn(dsn: str, tenant_id: str) -> asyncpg.Connection:
    conn = await asyncpg.connect(dsn)
    # Session-level on purpose: this connection is ours alone and read-only.
    await conn.execute("SELECT set_config('app.tenant_id', $1, false)", tenant_id)
    return conn


async def _read_back(t: SuiteTarget, project_ids: list[str], moves: int, wait: float) -> dict:
    wanted = {uuid.UUID(p) for p in project_ids}
    pconn = await _tenant_conn(t.projects_dsn, t.tenant_id)
    nconn = await _tenant_conn(t.notifications_dsn, t.tenant_id)
    try:
        # Stage changes: (project, to_stage) -> commit time of the moving transaction.
        changes = await pconn.fetch(
            "SELECT project_id, to_stage, changed_at, pg_xact_commit_timestamp(xmin) AS committed"
            " FROM stage_change WHERE project_id = ANY($1::uuid[])",
            list(wanted),
        )
        commits = {(r["project_id"], r["to_stage"]): r for r in changes}
        outbox = await pconn.fetch(
            "SELECT id, created_at, published_at, payload FROM outbox_message WHERE subject = $1",
            STAGE_CHANGED,
        )
        events: dict[uuid.UUID, dict] = {}
        for row in outbox:
            env = common_pb2.EventEnvelope()
            env.ParseFromString(row["payload"])
            pid = uuid.UUID(env.aggregate_id)
            if pid not in wanted:
                continue
            moved = events_pb2.ProjectStageChanged()
            env.payload.Unpack(moved)
            change = commits.get((pid, moved.to_stage))
            if change is None:
                raise BenchFailure(f"outbox event {row['id']} has no stage_change row")
            events[row["id"]] = {
                "producer_start": row["created_at"],
                "producer_commit": change["committed"],
                "relay_start": row["published_at"],
            }
        if not events:
            raise BenchFailure(f"no stage-changed events in the outbox for {moves} moves")
        if any(e["producer_commit"] is None for e in events.values()):
            raise BenchFailure("no commit timestamps: is track_commit_timestamp on?")
        ids = list(events)
        deadline = time.monotonic() + wait
        while True:
            handled = await nconn.fetch(
                "SELECT event_id, processed_at, pg_xact_commit_timestamp(xmin) AS committed"
                " FROM processed_event WHERE consumer = 'notifications'"
                " AND event_id = ANY($1::uuid[])",
                ids,
            )
            if len(handled) == len(ids) or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
        emails = await nconn.fetch(
            "SELECT event_id, min(created_at) AS created_at, count(*) AS n FROM email"
            " WHERE event_id = ANY($1::uuid[]) GROUP BY event_id",
            ids,
        )
        for r in handled:
            events[r["event_id"]]["handler_commit"] = r["committed"]
        for r in emails:
            events[r["event_id"]]["handler_start"] = r["created_at"]
            events[r["event_id"]]["emails"] = r["n"]
    finally:
        await pconn.close()
        await nconn.close()

    def ms(a: datetime, b: datetime) -> float:
        return (b - a).total_seconds() * 1000

    # Reported over the events handled with their emails; the rest are counted.
    # (A relay pass whose published_at is not committed yet counts as unhandled too.)
    ev = [
        e
        for e in events.values()
        if "handler_commit" in e and "handler_start" in e and e["relay_start"] is not None
    ]
    if not ev:
        raise BenchFailure(f"none of {len(events)} stage changes was handled within {wait:.0f}s")
    where: dict = {"db": await events_where.by_consumer(t.consumer_dsns, t.tenant_id, events)}
    if t.trace_dir is not None:
        ids = {str(i) for i in events}
        where["spans"] = events_where.from_spans(t.trace_dir, STAGE_CHANGED, ids)
    return {
        "where": where,
        "events": len(ev),
        "outbox_events": len(events),
        "unhandled": len(events) - len(ev),
        "emails_per_event": sorted({e["emails"] for e in ev}),
        "start_to_start": summary([ms(e["producer_start"], e["handler_start"]) for e in ev]),
        "commit_to_commit": summary([ms(e["producer_commit"], e["handler_commit"]) for e in ev]),
        "producer_tx": summary([ms(e["producer_start"], e["producer_commit"]) for e in ev]),
        "commit_to_relay": summary([ms(e["producer_commit"], e["relay_start"]) for e in ev]),
        "relay_to_handler_start": summary([ms(e["relay_start"], e["handler_start"]) for e in ev]),
        "handler_tx": summary([ms(e["handler_start"], e["handler_commit"]) for e in ev]),
    }


def suite_events(t: SuiteTarget, *, projects: int, rate: float) -> dict:
    async def go() -> dict:
        driven = await _drive(t, projects=projects, rate=rate)
        measured = await _read_back(t, driven["project_ids"], driven["ok_moves"], wait=30)
        return {
            "rate_per_s": rate,
            "moves": driven["moves"],
            "ok_moves": driven["ok_moves"],
            "failed_by_status": driven["failed_by_status"],
            "first_failure": driven["first_failure"],
            "projects": projects,
            "drive_seconds": driven["seconds"],
            "http_stage_post": summary(driven["http_ms"]),
            **measured,
        }

    return asyncio.run(go())


FLOOR_EVENTS, FLOOR_RATE = 300, 50.0
SUITE_PROJECTS, SUITE_RATE = 75, 20.0  # 75 projects x 4 moves = 300 moves, 15 s


def measure(suite, info: dict, host: str, *, log, quiet_s: float, check) -> dict:
    """Stage change committed -> notification handled, vs the JetStream floor."""
    log(
        f"events floor: JetStream publish -> pull consumer, {FLOOR_EVENTS} at "
        f"{FLOOR_RATE:.0f}/s ..."
    )
    wait_quiet(quiet_s)
    with CpuWindow() as window:
        floor = jetstream_floor(suite.nats.url, count=FLOOR_EVENTS, rate=FLOOR_RATE)
    floor["cpu"] = window.as_dict()
    log(
        f"  p50 {floor['publish_to_handled']['p50_ms']:.2f} ms, "
        f"p99 {floor['publish_to_handled']['p99_ms']:.2f} ms"
    )

    log(f"events suite: {SUITE_PROJECTS} projects x 4 stage moves at {SUITE_RATE:.0f}/s ...")
    target = SuiteTarget(
        gateway_url=suite.gateway_url,
        host=host,
        token=info["staff_token"],
        customer_id=info["demo_customer_id"],
        tenant_id=info["tenant_id"],
        projects_dsn=_dsn(suite.database_urls["projects"]),
        notifications_dsn=_dsn(suite.database_urls["notifications"]),
        consumer_dsns={c: _dsn(suite.database_urls[c]) for c in events_where.STAGE_CONSUMERS},
        trace_dir=suite.data.parent if events_where.TRACED else None,
    )
    wait_quiet(quiet_s)
    cpu_before = events_where.process_cpu(suite)
    with CpuWindow() as window:
        suite_ev = suite_events(target, projects=SUITE_PROJECTS, rate=SUITE_RATE)
    suite_ev["cpu"] = window.as_dict()
    suite_ev["where"]["cpu_ms_per_move"] = events_where.cpu_per_move(
        cpu_before, events_where.process_cpu(suite), suite_ev["moves"]
    )
    check(suite)
    log(
        f"  commit -> handled p50 {suite_ev['commit_to_commit']['p50_ms']:.2f} ms, "
        f"p99 {suite_ev['commit_to_commit']['p99_ms']:.2f} ms"
    )
    return {"floor": floor, "suite": suite_ev}
