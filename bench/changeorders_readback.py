"""bench/changeorders.py's read-back: per approval, when each consumer committed
(commit timestamps), and how many certificates documents holds."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime

import asyncpg
from portal.changeorders.v1 import events_pb2 as co_events
from portal.common.v1 import common_pb2

from bench.events import _dsn, _tenant_conn
from services.changeorders.service.filing import certificate_request_id

READ_BACK = {  # consumer -> SQL giving (change order id, commit) for the ids in $1
    "projects": "SELECT source_id::text AS co, pg_xact_commit_timestamp(xmin) AS c FROM variation"
    " WHERE source = 'change_order' AND source_id::text = ANY($1::text[])",
    "payments": "SELECT change_order_id::text AS co, pg_xact_commit_timestamp(xmin) AS c"
    " FROM variation WHERE change_order_id::text = ANY($1::text[])",
    "bookings": "SELECT change_order_id::text AS co, pg_xact_commit_timestamp(xmin) AS c"
    " FROM change_order_work WHERE change_order_id::text = ANY($1::text[])",
}


async def wait_rows(conn: asyncpg.Connection, sql: str, ids: list[str], wait: float) -> dict:
    deadline = time.monotonic() + wait
    while True:
        rows = {r["co"]: r["c"] for r in await conn.fetch(sql, ids)}
        if len(rows) >= len(ids) or time.monotonic() > deadline:
            return rows
        await asyncio.sleep(0.3)


async def suite_read_back(suite, tenant: str, ids: list[str], wait: float) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for name, sql in READ_BACK.items():
        conn = await _tenant_conn(_dsn(suite.database_urls[name]), tenant)
        try:
            out[name] = await wait_rows(conn, sql, ids, wait)
        finally:
            await conn.close()
    # Notifications: the approved events' ids from changeorders' outbox, then their emails.
    conn = await _tenant_conn(_dsn(suite.database_urls["changeorders"]), tenant)
    try:
        rows = await conn.fetch(
            "SELECT id, payload FROM outbox_message WHERE subject = $1",
            "changeorders.change_order.approved",
        )
    finally:
        await conn.close()
    event_of: dict[uuid.UUID, str] = {}
    for r in rows:
        env = common_pb2.EventEnvelope()
        env.ParseFromString(r["payload"])
        approved = co_events.ChangeOrderApproved()
        env.payload.Unpack(approved)
        event_of[r["id"]] = approved.change_order_id
    conn = await _tenant_conn(_dsn(suite.database_urls["notifications"]), tenant)
    try:
        sql = (
            "SELECT event_id, max(pg_xact_commit_timestamp(xmin)::text) AS c FROM email"
            " WHERE event_id = ANY($1::uuid[]) GROUP BY event_id"
        )
        deadline = time.monotonic() + wait
        while True:
            got = await conn.fetch(sql, list(event_of))
            if len(got) >= len(ids) or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.3)
        out["notifications"] = {
            event_of[r["event_id"]]: datetime.fromisoformat(r["c"]) for r in got
        }
        # The email rows' xmin is the mailer's once it has sent them (held
        # MAIL_HOLD_SECONDS, 1 s, by design); the consumer's own commit, the
        # notification queued, is its inbox row's (never updated).
        queued = await conn.fetch(
            "SELECT event_id, pg_xact_commit_timestamp(xmin) AS c FROM processed_event"
            " WHERE consumer = 'notifications' AND event_id = ANY($1::uuid[])",
            list(event_of),
        )
        out["notification queued"] = {event_of[r["event_id"]]: r["c"] for r in queued}
        # Approvals changeorders committed, answered 2xx or not (a send the
        # gateway gave up on may still have approved): what the CPU was for.
        out["approved"] = {co: datetime.now(UTC) for co in event_of.values()}
    finally:
        await conn.close()
    return out


async def wait_certificates(suite, tenant: str, orders: dict[str, int], wait: float) -> int:
    """How many of these orders' certificates documents holds (filed by changeorders'
    own consumer of `approved`, drawn in a niced child: under load after the four)."""
    ids = [certificate_request_id(co, revision) for co, revision in orders.items()]
    conn = await _tenant_conn(_dsn(suite.database_urls["documents"]), tenant)
    try:
        sql = "SELECT count(*) FROM document WHERE request_id = ANY($1::text[])"
        deadline = time.monotonic() + wait
        while True:
            filed = await conn.fetchval(sql, ids)
            if filed >= len(ids) or time.monotonic() > deadline:
                return filed
            await asyncio.sleep(0.3)
    finally:
        await conn.close()
