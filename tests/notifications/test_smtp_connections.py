"""SMTP connections are kept between emails: fewer connections than emails,
counted on the server's side, and a connection the server dropped costs no
email and sends none twice."""

from __future__ import annotations

import asyncio

from deploy.smtp_faults import Fault
from services.notifications.domain_delivery import FailureKind
from services.notifications.smtp_gateway import SmtpGateway
from tests.notifications.conftest import T0, Mailer

RECIPIENTS = [f"client{n}@example.com" for n in range(4)]


async def test_emails_share_a_few_kept_connections(mailer: Mailer):
    # Two emails per recipient about one project: two passes of four at once.
    for to in RECIPIENTS:
        await mailer.queue("Cinema", to=to, at=T0)
        await mailer.queue("Cinema", to=to, at=T0.replace(minute=1), to_stage=3)
    assert await mailer.send_due() == 4
    assert await mailer.send_due() == 4
    assert len(mailer.sink.messages) == 8
    assert mailer.proxy.connections == 4  # one per parallel send, not one per email
    assert mailer.gateway.connections_opened == 4


async def test_a_refused_email_keeps_its_connection_for_the_next(mailer: Mailer):
    first = await mailer.queue("Cinema", project_id="p1")
    second = await mailer.queue("Lounge", project_id="p2", at=T0.replace(minute=1))
    mailer.sink.faults.append(Fault("jane@example.com", 550, count=1, subject=first))
    await mailer.send_due(batch=1, max_permanent_attempts=1)
    await mailer.send_due(batch=1, max_permanent_attempts=1)
    assert mailer.subjects() == [second]
    assert [r.status for r in await mailer.rows()] == ["failed", "sent"]
    assert mailer.proxy.connections == 1


async def test_a_refused_email_whose_reset_failed_closes_its_connection(mailer: Mailer):
    first = await mailer.queue("Cinema", project_id="p1")
    second = await mailer.queue("Lounge", project_id="p2", at=T0.replace(minute=1))
    mailer.sink.faults.append(Fault("jane@example.com", 550, count=1, subject=first))
    mailer.proxy.cut = "refuse_rset"  # the envelope after the refusal is unknown
    await mailer.send_due(batch=1, max_permanent_attempts=1)
    await mailer.send_due(batch=1, max_permanent_attempts=1)
    assert mailer.subjects() == [second]
    assert [r.status for r in await mailer.rows()] == ["failed", "sent"]
    assert mailer.proxy.cut is None  # the RSET was sent, and refused
    assert mailer.proxy.connections == 2  # the second email did not reuse it


async def test_a_connection_the_server_dropped_meanwhile_is_replaced_without_a_failure(
    mailer: Mailer,
):
    await mailer.queue("Cinema", project_id="p1")
    assert await mailer.send_due() == 1
    # The kept connection looks open, but the server is gone when MAIL is sent.
    mailer.proxy.cut = "next_command"
    second = await mailer.queue("Lounge", project_id="p2")
    assert await mailer.send_due() == 1
    assert mailer.subjects()[-1] == second and len(mailer.sink.messages) == 2
    row = next(r for r in await mailer.rows() if r.subject == second)
    assert (row.status, row.attempts, row.last_error) == ("sent", 1, "")
    assert mailer.proxy.connections == 2


async def test_a_connection_lost_before_the_message_ended_is_retried_and_sent_once(
    mailer: Mailer,
):
    subject = await mailer.queue("Cinema")
    mailer.proxy.cut = "before_end_of_data"
    assert await mailer.send_due() == 1
    (row,) = await mailer.rows()
    assert (row.status, row.failure_kind, row.attempts) == ("pending", "transient", 1)
    assert mailer.sink.messages == []  # not lost: still queued; not sent yet
    await mailer.retry_now()
    assert await mailer.send_due() == 1
    assert mailer.subjects() == [subject]
    (row,) = await mailer.rows()
    assert (row.status, row.attempts) == ("sent", 2)


async def test_a_reply_lost_after_data_is_not_resent_on_the_spot(mailer: Mailer):
    # The server took it, but its answer never came: the gateway must not try
    # again itself (that would be a second copy now); the row waits for the
    # mailer's retry rules, as an unanswered send always did.
    subject = await mailer.queue("Cinema")
    mailer.proxy.cut = "reply_to_data"
    assert await mailer.send_due() == 1
    assert mailer.subjects() == [subject]
    (row,) = await mailer.rows()
    assert (row.status, row.failure_kind, row.attempts) == (
        "pending",
        FailureKind.TRANSIENT.value,
        1,
    )


async def test_an_idle_connection_is_closed_after_its_idle_time(mailer: Mailer):
    gateway = SmtpGateway(mailer.settings, idle_seconds=0.05)
    await mailer.queue("Cinema")
    await mailer.send_due(gateway.send)
    assert len(mailer.sink.messages) == 1
    for _ in range(200):  # polled, not timed: closed with QUIT once it expired
        if mailer.proxy.open_connections == 0:
            break
        await asyncio.sleep(0.025)
    assert mailer.proxy.open_connections == 0
    await mailer.queue("Lounge", project_id="p2")
    await mailer.send_due(gateway.send)
    assert len(mailer.sink.messages) == 2 and mailer.proxy.connections == 2
    await gateway.aclose()
