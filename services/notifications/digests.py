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
from services.notifications.service import Sessions, brand_of, email_row, queue_emails


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
        if not domain.digest_due(newest, now, quiet_seconds):
            continue
        async with UnitOfWork(sessions, str(tenant_id)) as uow:
            notices = list(
                await uow.session.scalars(
                    select(ShareNotice)
                    .where(ShareNotice.project_id == project_id, ShareNotice.digest_id.is_(None))
                    .with_for_update(skip_locked=True)
                )
            )
            if not notices:
                continue  # another replica took them
            tenant = await identity.tenant(str(tenant_id))
            customer = await identity.customer(str(tenant_id), str(customer_id))
            brand = brand_of(tenant)
            digest_id = uuid.uuid4()
            message = domain.documents_shared(
                project_name=notices[0].project_name,
                titles=[n.document_title for n in notices],
                link=portal_url_template.format(slug=tenant.slug)
                + f"/projects/{project_id}/documents",
            )
            digest = Event(
                id=str(digest_id),
                type=subject_for(DocumentShared),
                tenant_id=str(tenant_id),
                occurred_at=now,
                aggregate_type="project",
                aggregate_id=str(project_id),
                payload=None,
            )
            await queue_emails(
                uow,
                [
                    email_row(digest, brand, to=c.email, name=c.full_name, message=message)
                    for c in customer.contacts
                ],
            )
            for notice in notices:
                notice.digest_id = digest_id
            await uow.commit()
            queued += 1
    return queued
