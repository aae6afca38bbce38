"""The mailer's two questions read the mail due soon, not the whole queue:
3,000 reminders scheduled days ahead (one per open change order and
approver, in a real queue) are not read on every wake-up. Asked of the
statements the mailer runs, analysed, by the buffers they touch (the old
"when is the next one due?" asked every pending row whether it was first in
line: 1,000 buffers a call here, 3,757 in the change-order bench)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import Select, text

from services.notifications.service import MailerPolicy
from services.notifications.service.mailer import due_emails, next_due, seconds_until_next_due
from tests.notifications.conftest import Mailer

SCHEDULED = 3000
POLICY = MailerPolicy(hold_seconds=30.0)
POLL = 60.0  # the mailer's fallback poll, longer than the hold here


async def _schedule_reminders(mailer: Mailer) -> None:
    """Copies of a queued email, each to its own approver, due in 3 days."""
    async with mailer.sessions() as session, session.begin():
        await session.execute(
            text(
                "INSERT INTO email SELECT (jsonb_populate_record(e, jsonb_build_object("
                " 'id', gen_random_uuid(), 'event_id', gen_random_uuid(),"
                " 'to_address', 'approver' || g || '@example.com',"
                " 'event_at', now() + interval '3 days',"
                " 'next_attempt_at', now() + interval '3 days'))).*"
                " FROM email e, generate_series(1, :n) g"
            ),
            {"n": SCHEDULED},
        )
        await session.execute(text("ANALYZE email"))


async def _buffers(mailer: Mailer, statement: Select) -> tuple[int, str]:
    """Shared buffers the statement touched, run as the mailer runs it, and its plan."""
    async with mailer.sessions() as session, session.begin():
        connection = await session.connection()
        compiled = statement.compile(dialect=connection.dialect)
        params = [compiled.params[name] for name in compiled.positiontup or ()]
        raw = (await connection.get_raw_connection()).driver_connection
        found = await raw.fetchval(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {compiled}", *params)
        plan = (json.loads(found) if isinstance(found, str) else found)[0]["Plan"]
    return plan["Shared Hit Blocks"] + plan["Shared Read Blocks"], json.dumps(plan)[:2000]


async def test_reminders_scheduled_days_ahead_are_not_read_on_every_wake_up(mailer: Mailer):
    await mailer.queue("Cinema", at=datetime.now(UTC))  # held for POLICY's 30 s
    await _schedule_reminders(mailer)

    now = datetime.now(UTC)
    for statement in (next_due(now, POLICY, within=POLL), due_emails(now, POLICY, batch=20)):
        buffers, plan = await _buffers(mailer, statement)
        assert buffers < 100, plan  # without the bound: ~1,000 here, growing with the queue

    wait = await seconds_until_next_due(sessions=mailer.sessions, policy=POLICY, within=POLL)
    assert wait is not None and 0.0 < wait <= POLICY.hold_seconds
    # Only the reminders left: none is due within the poll, which covers them.
    async with mailer.sessions() as session, session.begin():
        await session.execute(text("DELETE FROM email WHERE to_address = 'jane@example.com'"))
    assert (
        await seconds_until_next_due(sessions=mailer.sessions, policy=POLICY, within=POLL) is None
    )
    assert await mailer.send_due() == 0
