"""`python -m bench.read_unit_cpu`: CPU per `ReadUnit` read, in this process
and in PostgreSQL, without the rest of the suite (a steadier figure than a
whole request on a shared machine).

Starts its own PostgreSQL, makes a table under row-level security with a few
rows of one tenant, and runs the hot reads' shape (one built-once SELECT on a
`ReadUnit` of one tenant) `--reads` times from `--concurrency` tasks; prints
this process's and PostgreSQL's CPU µs per read. Run it from a base tree with
PYTHONPATH pointing there to A/B a chassis change.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import tempfile
import time
import uuid
from pathlib import Path

import psutil
from sqlalchemy import Integer, Table, Uuid, bindparam, column, select, table, text

from deploy.infra import Postgres
from services.chassis.db import ReadUnit, make_engine, make_sessionmaker

DDL = [
    "CREATE TABLE item (id serial PRIMARY KEY, tenant_id uuid NOT NULL, note text NOT NULL)",
    "CREATE INDEX ix_item_tenant ON item (tenant_id, id)",
    "ALTER TABLE item ENABLE ROW LEVEL SECURITY",
    "ALTER TABLE item FORCE ROW LEVEL SECURITY",
    "CREATE POLICY tenant_isolation ON item "
    "USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)",
]


def _server_cpu(postmaster: psutil.Process) -> float:
    total = 0.0
    for proc in [postmaster, *postmaster.children(recursive=True)]:
        with contextlib.suppress(psutil.NoSuchProcess):  # a backend that ended meanwhile
            t = proc.cpu_times()
            total += t.user + t.system
    return total


async def _run(pg: Postgres, reads: int, concurrency: int) -> tuple[float, float]:
    url = pg.ensure_service_database("readcpu", "readcpu-password")
    engine = make_engine(url, pool_size=5)
    tenant = str(uuid.uuid4())
    async with engine.begin() as conn:
        for ddl in DDL:
            await conn.execute(text(ddl))
        await conn.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": tenant})
        for i in range(5):
            await conn.execute(
                text("INSERT INTO item (tenant_id, note) VALUES (:t, :n)"),
                {"t": tenant, "n": f"n{i}"},
            )
    sessions = make_sessionmaker(engine)
    item: Table = table("item", column("id", Integer), column("tenant_id", Uuid), column("note"))
    query = (
        select(item.c.id, item.c.note)
        .order_by(item.c.id.desc())
        .limit(bindparam("n", type_=Integer))
    )

    async def worker(count: int) -> None:
        for _ in range(count):
            async with ReadUnit(sessions, tenant) as read:
                rows = (await read.execute(query, {"n": 10})).all()
                assert len(rows) == 5

    await asyncio.gather(*(worker(50) for _ in range(concurrency)))  # warm-up
    postmaster = psutil.Process(_postmaster_pid(pg))
    each = reads // concurrency
    pg0, me0 = _server_cpu(postmaster), time.process_time()
    await asyncio.gather(*(worker(each) for _ in range(concurrency)))
    me, server = time.process_time() - me0, _server_cpu(postmaster) - pg0
    await engine.dispose()
    done = each * concurrency
    return me / done * 1e6, server / done * 1e6


def _postmaster_pid(pg: Postgres) -> int:
    return int((pg.data_dir / "postmaster.pid").read_text().splitlines()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reads", type=int, default=20000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    pg = Postgres(Path(tempfile.mkdtemp(prefix="readcpu-")) / "data", settings={"fsync": "off"})
    pg.start()
    try:
        for round_ in range(args.rounds):
            me, server = asyncio.run(_run(pg, args.reads, args.concurrency))
            print(
                f"round {round_ + 1}: this process {me:,.0f} µs/read, postgres {server:,.0f}",
                flush=True,
            )
            pg.drop_database("readcpu")
    finally:
        pg.stop()


if __name__ == "__main__":
    main()
