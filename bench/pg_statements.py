"""`BENCH_PG_STATEMENTS=1`: where PostgreSQL's time goes during a bench part.

Loads pg_stat_statements into the suite's PostgreSQL (the embedded server
ships it), resets it before each measured part and prints that part's
heaviest statements after it, by total execution time, with the buffers they
read: a plan that scans what it should look up shows as thousands of buffers
a call. Off by default: the extension costs a little on every statement,
and the figures of a full run are taken without it.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable

import asyncpg

ON = os.environ.get("BENCH_PG_STATEMENTS", "") == "1"
SETTINGS = (
    {"shared_preload_libraries": "pg_stat_statements", "pg_stat_statements.track": "all"}
    if ON
    else {}
)
_TOP = """
SELECT d.datname AS db, s.calls, s.total_exec_time AS ms, s.rows,
       s.shared_blks_hit + s.shared_blks_read AS buffers,
       left(regexp_replace(s.query, '\\s+', ' ', 'g'), 110) AS query
FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
ORDER BY s.total_exec_time DESC LIMIT $1
"""


async def _reset(admin_url: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        await conn.execute("SELECT pg_stat_statements_reset()")
    finally:
        await conn.close()


async def _top(admin_url: str, n: int) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(admin_url)
    try:
        return await conn.fetch(_TOP, n)
    finally:
        await conn.close()


def reset(admin_url: str) -> None:
    if ON:
        asyncio.run(_reset(admin_url))


def report(admin_url: str, part: str, log: Callable[[str], None], n: int = 15) -> None:
    """Log the part's heaviest statements (nothing unless BENCH_PG_STATEMENTS=1)."""
    if not ON:
        return
    log(f"pg_stat_statements, {part}: db | calls | ms total | ms/call | buffers/call | query")
    for r in asyncio.run(_top(admin_url, n)):
        calls = max(1, r["calls"])
        log(
            f"  {r['db']} | {r['calls']} | {r['ms']:,.0f} | {r['ms'] / calls:.3f} | "
            f"{r['buffers'] / calls:,.0f} | {r['query']}"
        )
