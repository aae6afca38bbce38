"""Document digests: one email per project and contact for the documents
shared since the last digest, once sharing has been quiet a while."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from portal.documents.v1.events_pb2 import DocumentShared
from sqlalchemy import func, select

from services.chassis.db import UnitOfWork
from services.chassis.events import Event, subject_for
from services.notifications import domain
from services.notifications.identity_client import IdentityClient
from services.notifications.models import ShareNotice
from services.notifications.service.common import Sessions, queue_branded_email


async def send_share_digests(
    *,
    sessions: Sessions,
    identity: IdentityClient,
    portal_url_template: str,
    quiet_seconds: float,
    now: datetime | None = None,
) -> int:
    """One email per project and contact for documents shared since the last
    digest, once the project has been quiet for `quiet_seconds`. Returns how
    many digests were queued."""
    now = now or datetime.now(UTC)
    async with sessions() as session:
        groups = (
            await session.execute(
                select(
                    ShareNotice.tenant_id,
                    ShareNotice.customer_id,
                    ShareNotice.project_id,
                    func.max(ShareNotice.created_at),
                )
                .where(ShareNotice.digest_id.is_(None))
                .group_by(ShareNotice.tenant_id, ShareNotice.customer_id, ShareNotice.project_id)
            )
        ).all()
    queued = 0
    for tenant_id, customer_id, project_id, newest in groups:
        if domain.digest_due(newest, now, quiet_seconds):
            async with UnitOfWork(sessions, str(tenant_id)) as uow:
                queued += await _queue_digest(
                    uow,
                    Event(
                        id=str(uuid.uuid4()),
                        type=subject_for(DocumentShared),
                        tenant_id=str(tenant_id),
                        occurred_at=now,
                        aggregate_type="project",
                        aggregate_id=str(project_id),
                        payload=None,
                    ),
                    customer_id=str(customer_id),
                    identity=identity,
                    portal_url_template=portal_url_template,
                )
    return queued


async def _queue_digest(
    uow: UnitOfWork,
    digest: Event[None],
    *,
    customer_id: str,
    identity: IdentityClient,
    portal_url_template: str,
) -> int:
    """The project's digest, as the event `digest` (its id marks the notices
    it covers); 0 if another replica took the notices first."""
    project_id = uuid.UUID(digest.aggregate_id)
    notices = list(
        await uow.session.scalars(
            select(ShareNotice)
            .where(ShareNotice.project_id == project_id, ShareNotice.digest_id.is_(None))
            .with_for_update(skip_locked=True)
        )
    )
    if not notices:
        return 0
    mailing = domain.Mailing(
        customer_id=customer_id,
        project_id=str(project_id),
        compose=lambda brand, portal: domain.documents_shared(
            project_name=notices[0].project_name,
            titles=[n.document_title for n in notices],
            link=f"{portal}/projects/{project_id}/documents",
        ),
    )
    await queue_branded_email(
        uow, digest, mailing, identity=identity, portal_url_template=portal_url_template
    )
    for notice in notices:
        notice.digest_id = uuid.UUID(digest.id)
    await uow.commit()
    return 1
