"""Bookings (issue 11), against the suite's own bookings process over gRPC:

1. Slot search: a client's `ListSlots` for 30 days, with 20 qualified
   technicians and 5,000 work orders already on their calendars (spread over
   the 60 days around now): p50/p99 of sequential calls, and the server CPU
   per call (bookings + PostgreSQL). Floor: p99 <= 25 ms.
2. 100 concurrent `BookVisit`s of one slot with one technician free: the
   time until all are answered; exactly one wins. Floor: <= 1 s.

The calendar is written straight into bookings' database (its own models, in
a unit of work of a tenant made for the bench: RLS applies as in the
service), then ANALYZEd. `python -m bench.bookings` runs it alone on a fresh
suite; `--py-spy DIR` records the bookings process during the slot search.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import signal
import statistics
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from google.protobuf.timestamp_pb2 import Timestamp
from portal.bookings.v1 import bookings_pb2 as pb
from portal.bookings.v1 import bookings_pb2_grpc
from portal.identity.v1 import identity_pb2 as ipb
from portal.identity.v1 import identity_pb2_grpc
from sqlalchemy import insert, text

from bench.noise import CpuWindow, wait_quiet
from bench.procs import cpu_seconds
from deploy.cli import seed_and_describe
from deploy.suite import Suite, SuiteOptions
from services.bookings.models import (
    Assignment,
    BookingSettings,
    ProjectFact,
    ServiceType,
    Technician,
    WorkOrder,
)
from services.chassis.audience import project_audience
from services.chassis.auth import Principal, PrincipalSigner
from services.chassis.db import UnitOfWork, make_engine, make_sessionmaker
from services.chassis.grpc_client import Caller, open_channel

TECHNICIANS, WORK_ORDERS, DAYS = 20, 5_000, 30
SLOT_CALLS, WARMUP_CALLS, RACERS = 200, 20, 100
FLOOR_SLOTS_P99_MS, FLOOR_RACE_S = 25.0, 1.0
HOURS = [{"weekday": d, "start": "08:00", "end": "18:00"} for d in range(1, 8)]


@dataclass(frozen=True)
class Demo:
    """The seeded demo tenant: its customer, project and approver (Jane)."""

    tenant_id: str
    customer_id: str
    project_id: str
    approver_id: str


@dataclass(frozen=True)
class Calendar:
    demo: Demo
    service_type_id: str
    race_type_id: str  # a skill only one technician has
    technician_ids: list[str]


def _ts(value: datetime) -> Timestamp:
    out = Timestamp()
    out.FromDatetime(value)
    return out


async def seed(url: str, demo: Demo, *, facts: bool = False, seed_value: int = 11) -> Calendar:
    """Into the demo tenant (its project is real in projects, which BookVisit
    asks, and has a service contract): 20 technicians with a skill of their
    own, two service types, and 5,000 one-hour work orders with their
    assignments, no two of a technician overlapping (the exclusion constraint
    would refuse them)."""
    rng = random.Random(seed_value)  # noqa: S311 (a repeatable calendar, not a secret)
    tenant = uuid.UUID(demo.tenant_id)
    customer, project = uuid.UUID(demo.customer_id), uuid.UUID(demo.project_id)
    engine = make_engine(url, pool_size=2)
    sessions = make_sessionmaker(engine)
    techs = [uuid.uuid4() for _ in range(TECHNICIANS)]
    stype, race_type = uuid.uuid4(), uuid.uuid4()
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    try:
        async with UnitOfWork(sessions, str(tenant)) as uow:
            s = uow.session
            if facts:  # a tenant of the bench's own (bench/bookings_local.py)
                s.add(BookingSettings(tenant_id=tenant, time_zone="Europe/London"))
                s.add(
                    ProjectFact(
                        project_id=project,
                        tenant_id=tenant,
                        customer_id=customer,
                        name="Bench cinema",
                        service_contract=True,
                    )
                )
                # The chassis' copy of whom the project is for: every contact.
                await s.execute(
                    insert(project_audience).values(
                        project_id=project, tenant_id=tenant, customer_id=customer, changed_at=now
                    )
                )
            s.add_all(
                Technician(
                    staff_user_id=t,
                    tenant_id=tenant,
                    full_name=f"Tech {i:02d}",
                    email=f"tech{i:02d}@bench.example",
                    active=True,
                    # Only the first can take the race's visit: one slot, one winner.
                    skills=["bench", "race"] if i == 0 else ["bench"],
                    working_hours=HOURS,
                    changed_at=now,
                )
                for i, t in enumerate(techs)
            )
            for type_id, skill in ((stype, "bench"), (race_type, "race")):
                s.add(_service_type(type_id, tenant, skill))
            await uow.flush()
            # Each technician's hours in the 60 days around now, on the hour,
            # taken without overlap (a visit plus its 15-minute buffer).
            taken: dict[uuid.UUID, set[datetime]] = {t: set() for t in techs}
            orders: list[WorkOrder] = []
            blocks: list[Assignment] = []
            made = 0
            while made < WORK_ORDERS:
                tech = techs[made % TECHNICIANS]
                start = now + timedelta(hours=rng.randrange(-30 * 24, 30 * 24))
                if start in taken[tech] or start - timedelta(hours=1) in taken[tech]:
                    continue
                if start + timedelta(hours=1) in taken[tech]:
                    continue
                taken[tech].add(start)
                order = WorkOrder(
                    id=uuid.uuid4(),
                    tenant_id=tenant,
                    request_id=f"bench-{made}",
                    kind="install",
                    status="scheduled",
                    project_id=project,
                    customer_id=customer,
                    title="Bench visit",  # rooms, products, tasks, photos: the defaults
                    starts_at=start,
                    ends_at=start + timedelta(hours=1),
                    buffer_before_minutes=0,
                    buffer_after_minutes=15,
                    created_by="bench",
                )
                orders.append(order)
                blocks.append(
                    Assignment(
                        tenant_id=tenant,
                        work_order_id=order.id,
                        technician_id=tech,
                        block_starts_at=start,
                        block_ends_at=start + timedelta(minutes=75),
                        active=True,
                    )
                )
                made += 1
            # The orders first: no relationship tells the session the order.
            s.add_all(orders)
            await uow.flush()
            s.add_all(blocks)
            await uow.flush()
            await uow.commit()
        async with engine.connect() as conn:
            # Committed: statistics ANALYZE writes in a transaction rolled
            # back are lost, and without them the planner read each
            # technician's blocks through the exclusion constraint's GiST
            # index (~4x PostgreSQL's CPU per search).
            await conn.execute(text("ANALYZE"))
            await conn.commit()
    finally:
        await engine.dispose()
    return Calendar(demo, str(stype), str(race_type), [str(t) for t in techs])


def _service_type(type_id: uuid.UUID, tenant: uuid.UUID, skill: str) -> ServiceType:
    return ServiceType(
        id=type_id,
        tenant_id=tenant,
        request_id=f"bench-{skill}",
        name=f"Bench {skill}",
        duration_minutes=60,
        step_minutes=0,
        skills=[skill],
        buffer_before_minutes=0,
        buffer_after_minutes=15,
        min_notice_minutes=0,
        horizon_days=DAYS + 2,
        cancel_cutoff_minutes=0,
        reschedule_cutoff_minutes=0,
        requires_confirmation=False,
        allow_service_contract=True,
        allow_after_handover=True,
        active=True,
    )


def _approver(demo: Demo) -> Principal:
    return Principal(
        kind="client",
        subject=demo.approver_id,
        tenant_id=demo.tenant_id,
        customer_id=demo.customer_id,
        roles=frozenset({"approver"}),
    )


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def slot_search(target: str, private_key: str, cal: Calendar, pids: list[int]) -> dict:
    """Sequential ListSlots for 30 days as the client; latency and CPU per call."""
    call = Caller(PrincipalSigner(private_key), timeout=30)
    client = _approver(cal.demo)
    request = pb.ListSlotsRequest(
        service_type_id=cal.service_type_id,
        project_id=cal.demo.project_id,
        from_date=date.today().isoformat(),
        days=DAYS,
    )
    async with open_channel(target) as channel:
        stub = bookings_pb2_grpc.BookingsServiceStub(channel)
        for _ in range(WARMUP_CALLS):
            answer = await call(stub.ListSlots, request, client)
        slots = len(answer.slots)
        took: list[float] = []
        cpu0, each0 = cpu_seconds(pids), [cpu_seconds([p]) for p in pids]
        for _ in range(SLOT_CALLS):
            began = time.perf_counter()
            await call(stub.ListSlots, request, client)
            took.append((time.perf_counter() - began) * 1000)
        cpu = cpu_seconds(pids) - cpu0
        each = [cpu_seconds([p]) - c for p, c in zip(pids, each0, strict=True)]
    return {
        "calls": SLOT_CALLS,
        "slots_per_answer": slots,
        "p50_ms": statistics.median(took),
        "p90_ms": _pct(took, 0.90),
        "p99_ms": _pct(took, 0.99),
        "max_ms": max(took),
        "server_cpu_us_per_call": 1e6 * cpu / SLOT_CALLS,
        # bookings, then PostgreSQL (all its backends: autovacuum too)
        "cpu_us_per_call_by_process": [round(1e6 * c / SLOT_CALLS) for c in each],
        "floor_p99_ms": FLOOR_SLOTS_P99_MS,
        "met": _pct(took, 0.99) <= FLOOR_SLOTS_P99_MS,
    }


async def demo_of(info: dict, identity_target: str, private_key: str) -> Demo:
    """The demo tenant as `seed_and_describe` left it; Jane's contact id from identity."""
    call = Caller(PrincipalSigner(private_key))
    async with open_channel(identity_target) as channel:
        customer = (
            await call(
                identity_pb2_grpc.IdentityServiceStub(channel).GetCustomer,
                ipb.GetCustomerRequest(customer_id=info["demo_customer_id"]),
                Principal(kind="service", subject="bench", tenant_id=info["tenant_id"]),
            )
        ).customer
    approver = next(c.id for c in customer.contacts if c.role == ipb.CONTACT_ROLE_APPROVER)
    return Demo(info["tenant_id"], customer.id, info["demo_project_id"], approver)


def _py_spy(pid: int, out: Path, name: str = "bookings-slots") -> subprocess.Popen:
    out.mkdir(parents=True, exist_ok=True)
    spy = shutil.which("py-spy") or "py-spy"
    argv = [spy, "record", "-r", "200", "-p", str(pid), "--format", "speedscope"]
    return subprocess.Popen(
        [*argv, "-o", str(out / f"{name}.json")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def measure(suite: Suite, info: dict, *, profile: Path | None = None, slots: bool = True) -> dict:
    """Seed, then the measurements (the suite is running and seeded)."""
    from bench.bookings_race import gateway_race, race  # they import this module

    target, key = suite.target("bookings"), suite.private_key
    pids = [suite.children["bookings"].proc.pid, suite.postgres.pid or 0]  # type: ignore[union-attr]
    demo = asyncio.run(demo_of(info, suite.target("identity"), key))
    began = time.perf_counter()
    cal = asyncio.run(seed(suite.database_urls["bookings"], demo))
    out: dict = {"seed_s": time.perf_counter() - began}
    out["other_cpu_before_pct"] = wait_quiet(10.0)
    if slots:
        spy = _py_spy(pids[0], profile) if profile is not None else None
        with CpuWindow() as window:
            out["slots"] = asyncio.run(slot_search(target, key, cal, pids))
        if spy is not None:
            spy.send_signal(signal.SIGINT)  # py-spy writes the profile on Ctrl-C
            spy.wait(timeout=60)
        out["slots"]["cpu"] = window.as_dict()
    with CpuWindow() as window:
        out["race"] = asyncio.run(race(target, key, cal))
    out["race"]["cpu"] = window.as_dict()
    with CpuWindow() as window:
        out["gateway_race"] = gateway_race(suite, info, cal, profile)
    out["gateway_race"]["cpu"] = window.as_dict()
    return out


def main() -> None:
    from bench.run import PG_SETTINGS

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--py-spy", type=Path, default=None, help="record bookings here")
    parser.add_argument("--race-only", action="store_true", help="skip the slot search")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="portal-bench-bookings-"))
    suite = Suite(
        SuiteOptions(
            data_dir=tmp / "suite",
            log_file=tmp / "suite.log",
            postgres_settings=PG_SETTINGS,
            with_localstripe=False,
        )
    )
    try:
        suite.start()
        result = measure(
            suite,
            seed_and_describe(suite, tmp / "suite"),
            profile=args.py_spy,
            slots=not args.race_only,
        )
        print(result, flush=True)
    finally:
        suite.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
