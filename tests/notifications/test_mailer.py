"""The mailer against a real SMTP server: one bad field never stops the
queue, and mail to one recipient about one project keeps the order of its
events, whatever fails on the way."""

from __future__ import annotations

import asyncio
import email
import email.message
import email.policy
from datetime import UTC, datetime, timedelta

from opentelemetry import metrics
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from sqlalchemy import text
from structlog.testing import capture_logs

from deploy.infra import free_port
from deploy.smtp_faults import Fault
from services.notifications import jobs
from services.notifications.domain_delivery import FailureKind, SendFailed
from services.notifications.service import MailerPolicy
from services.notifications.smtp_gateway import SmtpGateway
from tests.notifications.conftest import T0, Mailer

# The process's meter provider: the mailer's counters bind to it (set once per process).
METRICS = InMemoryMetricReader()
metrics.set_meter_provider(MeterProvider(metric_readers=[METRICS]))


def parsed(mailer: Mailer, index: int = -1) -> email.message.EmailMessage:
    """A captured message as the recipient's client parses it."""
    raw = mailer.sink.raw(mailer.sink.messages[index]["id"])
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, email.message.EmailMessage)
    return msg


def raw_headers(mailer: Mailer, index: int = -1) -> list[tuple[str, str]]:
    return [(name, str(value)) for name, value in parsed(mailer, index).items()]


def counted(name: str) -> float:
    data = METRICS.get_metrics_data()
    return sum(
        point.value
        for resource in (data.resource_metrics if data else [])
        for scope in resource.scope_metrics
        for metric in scope.metrics
        if metric.name == name
        for point in metric.data.data_points
    )


async def test_a_crlf_project_name_makes_one_encoded_subject_and_no_injected_header(
    mailer: Mailer,
):
    await mailer.queue("A\r\nBcc: x@evil", name="Jäne\r\nCc: y@evil")
    assert await mailer.send_due() == 1

    (message,) = mailer.sink.messages
    assert message["rcpt_tos"] == ["jane@example.com"]
    headers = raw_headers(mailer)
    names = [n.lower() for n, _ in headers]
    assert names.count("subject") == 1 and names.count("to") == 1
    assert "bcc" not in names and "cc" not in names
    assert dict(headers)["Subject"] == "A Bcc: x@evil: now in Procurement"
    (to,) = parsed(mailer)["To"].addresses
    assert (to.display_name, to.addr_spec) == ("Jäne Cc: y@evil", "jane@example.com")
    raw = mailer.sink.raw(message["id"])
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert head.isascii() and b"=?utf-8?" in head  # the non-ASCII name, RFC 2047-encoded
    assert b"\nBcc:" not in raw and b"\nCc:" not in raw
    (row,) = await mailer.rows()
    assert row.status == "sent"


async def test_a_row_queued_before_the_cleaning_is_sent_clean(mailer: Mailer):
    """Old rows hold whatever was stored; the gateway cleans again."""
    await mailer.queue("Old")
    async with mailer.sessions() as session, session.begin():
        await session.execute(
            text("UPDATE email SET subject = 'Old\r\nBcc: y@evil', from_name = 'Acme\nX: 1'")
        )
    assert await mailer.send_due() == 1
    headers = dict(raw_headers(mailer))
    assert headers["Subject"] == "Old Bcc: y@evil" and "Bcc" not in headers
    assert parsed(mailer)["From"].addresses[0].display_name == "Acme X: 1" and "X" not in headers


async def test_a_nul_in_a_name_is_stored_and_sent(mailer: Mailer):
    # PostgreSQL refuses NUL in text: uncleaned, the handler's insert fails
    # and the event's mail never exists.
    await mailer.queue("Den\x00 of sound")
    assert await mailer.send_due() == 1
    assert mailer.subjects() == ["Den of sound: now in Procurement"]


async def test_a_refused_message_fails_after_its_attempts_and_the_next_is_delivered(
    mailer: Mailer,
):
    first = await mailer.queue("Refused", at=T0)
    second = await mailer.queue("Refused", to_stage=3, at=T0 + timedelta(minutes=1))
    mailer.sink.faults.append(Fault("jane@example.com", 550, count=99, subject=first))
    failed_before = counted("notifications.email.failed")

    with capture_logs() as logs:
        for _ in range(4):
            await mailer.send_due(max_permanent_attempts=3)

    refused, delivered = await mailer.rows()
    assert (refused.status, refused.attempts, refused.failure_kind) == ("failed", 3, "permanent")
    assert "550" in refused.last_error and "refused" in refused.last_error
    assert delivered.status == "sent"
    # Delivered on the second pass, while the refused one was still being retried.
    assert mailer.subjects() == [second]
    failures = [e for e in logs if e["event"] == "notifications.email.failed"]
    assert len(failures) == 1 and failures[0]["email_id"] == str(refused.id)
    assert failures[0]["failure"] == "permanent" and failures[0]["log_level"] == "error"
    assert counted("notifications.email.failed") == failed_before + 1


async def test_a_transient_failure_holds_back_that_recipients_project_mail_only(mailer: Mailer):
    first = await mailer.queue("Cinema", at=T0)
    second = await mailer.queue("Cinema", to_stage=3, at=T0 + timedelta(minutes=1))
    other_project = await mailer.queue("Gym", project_id="p2", at=T0 + timedelta(seconds=30))
    await mailer.queue("Cinema", to="bob@example.com", name="Bob", at=T0)
    mailer.sink.faults.append(Fault("jane@example.com", 451, count=1, subject=first))

    await mailer.send_due(delays=(3600,))  # the first: 451, back in an hour
    await mailer.send_due(delays=(3600,))
    # Not the second: it would overtake. The other project and Bob are not held.
    assert mailer.subjects() == [other_project]
    assert mailer.subjects("bob@example.com") == [first]
    held = {r.subject: r for r in await mailer.rows() if r.to_address == "jane@example.com"}
    assert held[first].failure_kind == FailureKind.TRANSIENT.value and held[first].attempts == 1
    assert "451" in held[first].last_error

    await mailer.retry_now()
    for _ in range(3):
        await mailer.send_due()
    assert mailer.subjects() == [other_project, first, second]


async def test_mail_goes_in_the_order_of_its_events_not_of_its_queueing(mailer: Mailer):
    # Two consumers (stage changes, proposals) queue on their own schedules.
    later = await mailer.queue("Cinema", to_stage=3, at=T0 + timedelta(seconds=1))
    earlier = await mailer.queue("Cinema", to_stage=2, at=T0)
    while await mailer.send_due():
        pass
    assert mailer.subjects() == [earlier, later]


async def test_two_mailers_at_once_never_send_a_recipients_second_email_first(mailer: Mailer):
    subjects = [
        await mailer.queue("Cinema", to_stage=stage, at=T0 + timedelta(seconds=stage))
        for stage in (2, 3, 4, 5)
    ]

    async def slow_first(email):
        if email.subject == subjects[0]:
            await asyncio.sleep(0.5)  # a slow server: the other replica looks meanwhile
        await mailer.send(email)

    async def replica() -> None:
        for _ in range(8):
            await mailer.send_due(slow_first, batch=1)
            await asyncio.sleep(0.05)

    await asyncio.gather(replica(), replica())
    assert mailer.subjects() == subjects


async def test_different_recipients_are_sent_in_parallel(mailer: Mailer):
    for i in range(4):
        await mailer.queue("Cinema", to=f"c{i}@example.com", name=f"C{i}")
    in_flight, most = 0, 0

    async def counting(email):
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        await asyncio.sleep(0.2)
        await mailer.send(email)
        in_flight -= 1

    assert await mailer.send_due(counting) == 4
    assert most == 4 and len(mailer.sink.messages) == 4


async def test_smtp_down_is_transient_and_a_bad_address_permanent(mailer: Mailer):
    await mailer.queue("Cinema", to="jane@example.com")
    await mailer.queue("Cinema", to="jane@example.com\r\nBcc: x@evil", project_id="p2")
    down = mailer.settings.model_copy(update={"smtp_port": free_port()})
    failures = {}
    for row in await mailer.rows():
        try:
            await SmtpGateway(down).send(row)
        except SendFailed as exc:
            failures[row.to_address] = exc.failure
    assert failures["jane@example.com"].kind is FailureKind.TRANSIENT
    bad = failures["jane@example.com\r\nBcc: x@evil"]
    assert bad.kind is FailureKind.PERMANENT and "invalid recipient address" in bad.reason


async def test_the_mailer_job_waits_out_the_hold_instead_of_the_poll(mailer: Mailer):
    await mailer.queue("Cinema", at=datetime.now(UTC))
    job = jobs.mailer(
        sessions=mailer.sessions,
        send=mailer.send,
        policy=MailerPolicy(hold_seconds=0.4),
        poll_seconds=5.0,
    )
    started = asyncio.get_running_loop().time()
    assert await job.run() is True  # nothing due yet: it waited for the hold
    assert mailer.sink.messages == []
    assert await job.run() is True
    assert len(mailer.sink.messages) == 1
    assert asyncio.get_running_loop().time() - started < 3.0
