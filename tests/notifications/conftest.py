"""Notifications' mailer on a migrated database of its own, sending through
real SMTP: the dev sink in-process (aiosmtpd), which can also be told to
answer 4xx or 5xx (deploy/smtp_faults.py), behind a proxy that counts and can
drop connections (smtp_proxy.py). Emails are queued the way the
handlers queue them (`email_row` and `queue_emails`), so composition is real."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from portal.projects.v1 import events_pb2 as project_events
from sqlalchemy import delete, select

from deploy.infra import Postgres
from deploy.smtp_sink import SmtpSink
from services.chassis.db import UnitOfWork, make_engine, make_sessionmaker
from services.chassis.events import Event, subject_for
from services.notifications import domain
from services.notifications.domain_delivery import RetryPolicy
from services.notifications.models import Email
from services.notifications.service import MailerPolicy, email_row, queue_emails, send_due_emails
from services.notifications.settings import NotificationsSettings
from services.notifications.smtp_gateway import SmtpGateway
from tests.grpc_service import migrated_database
from tests.notifications.smtp_proxy import SmtpProxy

BRAND = domain.Brand(name="Acme AV", accent_color="#b4442b", support_email="", support_phone="")
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def notifications_url(postgres: Postgres) -> Iterator[str]:
    with migrated_database(postgres, "notifications") as url:
        yield url


@dataclass
class Mailer:
    """The queue, the sink, and the real SMTP gateway between them."""

    sessions: Any
    sink: SmtpSink
    proxy: SmtpProxy
    settings: NotificationsSettings
    gateway: SmtpGateway
    tenant_id: str

    async def queue(
        self,
        project_name: str,
        *,
        to: str = "jane@example.com",
        name: str = "Jane Harrison",
        project_id: str = "p1",
        to_stage: int = 2,
        at: datetime = T0,
    ) -> str:
        """A stage-change email, as the handler queues it; returns its subject."""
        payload = project_events.ProjectStageChanged(
            project_id=project_id, name=project_name, reference="PRJ-1", to_stage=to_stage
        )
        event = Event(
            id=str(uuid.uuid4()),
            type=subject_for(project_events.ProjectStageChanged),
            tenant_id=self.tenant_id,
            occurred_at=at,
            aggregate_type="project",
            aggregate_id=project_id,
            payload=payload,
        )
        message = domain.stage_changed(
            project_name=project_name,
            reference="PRJ-1",
            from_stage=1,
            to_stage=to_stage,
            client_note="",
            link="http://acme.localhost/",
        )
        row = email_row(event, BRAND, to=to, name=name, message=message)
        async with UnitOfWork(self.sessions, self.tenant_id) as uow:
            await queue_emails(uow, [row])
            await uow.commit()
        return row["subject"]

    async def send_due(self, send=None, *, batch: int = 20, **retry: Any) -> int:
        policy = MailerPolicy(retry=RetryPolicy(**{"delays": (0.0,) * 7, **retry}))
        return await send_due_emails(
            sessions=self.sessions,
            send=send or self.send,
            policy=policy,
            batch=batch,
        )

    async def send(self, email: Email) -> None:
        await self.gateway.send(email)

    async def rows(self) -> list[Email]:
        async with self.sessions() as session:
            return list(await session.scalars(select(Email).order_by(Email.event_at)))

    async def retry_now(self) -> None:
        """As if the backoff had passed."""
        async with self.sessions() as session, session.begin():
            for email in await session.scalars(select(Email)):
                email.next_attempt_at = datetime.now(UTC) - timedelta(seconds=1)

    def subjects(self, to: str = "jane@example.com") -> list[str]:
        return [m["subject"] for m in self.sink.messages if to in m["rcpt_tos"]]


@pytest.fixture
async def mailer(notifications_url: str) -> AsyncIterator[Mailer]:
    engine = make_engine(notifications_url, pool_size=2)
    sessions = make_sessionmaker(engine)
    # The mailer reads the whole queue, across tenants: each test starts empty.
    async with sessions() as session, session.begin():
        await session.execute(delete(Email))
    sink = SmtpSink()
    await sink.start()
    proxy = SmtpProxy(sink.smtp_port)
    await proxy.start()
    settings = NotificationsSettings(
        database_url=notifications_url,
        principal_public_key="unused: the mailer calls nobody",
        smtp_port=proxy.port,
    )
    gateway = SmtpGateway(settings)
    try:
        yield Mailer(sessions, sink, proxy, settings, gateway, str(uuid.uuid4()))
    finally:
        await gateway.aclose()
        await proxy.stop()
        await sink.stop()
        await engine.dispose()
