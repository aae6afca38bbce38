"""`python -m bench.bookings_split [CALLS]`: where a slot search's CPU goes.

bench/bookings.py's calendar (20 technicians, 5,000 visits) in a PostgreSQL
of its own; `list_slots` and the answer's `slots_pb` called in this process
(no gRPC), CALLS times after 20 warm-ups. Reports CPU per call: this
process (Python: SQLAlchemy, asyncpg, the sweep, the answer) and bookings'
PostgreSQL backends (SQL), and inside Python the calendars statement with
its rows, the sweep (`open_starts`) and `slots_pb`. CPU time, not wall time:
comparable on a busy machine, run before and after in turns.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import psutil

from bench.bookings import DAYS, Demo, _approver, seed
from deploy.infra.postgres import Postgres
from services.bookings import domain_slots
from services.bookings.grpc_api.convert import slots_pb
from services.bookings.service import availability
from services.chassis.db import make_engine, make_sessionmaker
from services.chassis.migrations import upgrade
from services.chassis.timefmt import zone

spent: dict[str, float] = {}


def _timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    if asyncio.iscoroutinefunction(fn):

        async def timed_async(*args: Any, **kw: Any) -> Any:
            t = time.process_time()
            try:
                return await fn(*args, **kw)
            finally:
                spent[name] = spent.get(name, 0.0) + time.process_time() - t

        return timed_async

    def timed(*args: Any, **kw: Any) -> Any:
        t = time.process_time()
        try:
            return fn(*args, **kw)
        finally:
            spent[name] = spent.get(name, 0.0) + time.process_time() - t

    return timed


def _backends_cpu(pg_pid: int) -> float:
    """CPU of bookings' own PostgreSQL backends (not autovacuum, not others)."""
    total = 0.0
    for child in psutil.Process(pg_pid).children():
        try:
            if "bookings_svc" in " ".join(child.cmdline()):
                t = child.cpu_times()
                total += t.user + t.system
        except psutil.Error:
            continue
    return total


async def run(url: str, pg_pid: int, calls: int) -> dict:
    demo = Demo(str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4()))
    cal = await seed(url, demo, facts=True)
    engine = make_engine(url, pool_size=1)
    sessions = make_sessionmaker(engine)
    client = _approver(demo)
    # Measured where the service calls them (module attributes it looks up).
    availability.calendars = _timed("calendars_sql_and_rows", availability.calendars)
    availability.slots.open_starts = _timed("sweep", domain_slots.open_starts)
    answer = _timed("slots_pb", slots_pb)

    async def once() -> int:
        found, tz = await availability.list_slots(
            sessions=sessions,
            principal=client,
            service_type_id=cal.service_type_id,
            project_id=demo.project_id,
            from_date=date.today().isoformat(),
            days=DAYS,
        )
        return len(answer(found, zone(tz), time_zone=tz).slots)

    try:
        for _ in range(20):
            slots = await once()
        spent.clear()
        py0, pg0 = time.process_time(), _backends_cpu(pg_pid)
        for _ in range(calls):
            await once()
        py, pg = time.process_time() - py0, _backends_cpu(pg_pid) - pg0
    finally:
        await engine.dispose()
    out: dict[str, Any] = {
        "calls": calls,
        "slots_per_answer": slots,
        "python_us_per_call": round(1e6 * py / calls),
        "postgres_us_per_call": round(1e6 * pg / calls),
    }
    out |= {f"{k}_us_per_call": round(1e6 * v / calls) for k, v in spent.items()}
    return out


def main() -> None:
    from bench.run import PG_SETTINGS

    calls = int(sys.argv[1]) if len(sys.argv) > 1 else 150
    tmp = Path(tempfile.mkdtemp(prefix="portal-bench-bookings-split-"))
    postgres = Postgres(tmp / "pg", settings=PG_SETTINGS)
    postgres.start()
    try:
        url = postgres.ensure_service_database("bookings", "bench-bookings-password")
        upgrade("bookings", url)
        print(json.dumps(asyncio.run(run(url, postgres.pid or 0, calls)), indent=2))
    finally:
        postgres.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
