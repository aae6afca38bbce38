"""Waiting items: what the client is expected to do, on the status board until
resolved. Opened and resolved by key, idempotently, so handlers of other
services' events (a change order sent, an invoice issued) can use the same two
calls, and a redelivered event changes nothing."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import case, update
from sqlalchemy.dialects.postgresql import insert

from services.chassis.db import UnitOfWork
from services.projects.models import Project, WaitingItem


async def open_waiting_item(
    uow: UnitOfWork,
    *,
    project: Project,
    kind: str,
    key: str,
    title: str,
    link: str,
    since: datetime,
) -> None:
    await uow.session.execute(
        insert(WaitingItem)
        .values(
            id=uuid.uuid4(),
            tenant_id=project.tenant_id,
            project_id=project.id,
            kind=kind,
            key=key,
            title=title[:200],
            link=link[:500],
            since=since,
        )
        .on_conflict_do_nothing(index_elements=["tenant_id", "kind", "key"])
    )


async def resolve_waiting_item(uow: UnitOfWork, *, kind: str, key: str, now: datetime) -> None:
    await uow.session.execute(
        update(WaitingItem)
        .where(WaitingItem.kind == kind, WaitingItem.key == key, WaitingItem.resolved_at.is_(None))
        .values(resolved_at=now)
    )


async def keep_waiting_item(
    uow: UnitOfWork,
    *,
    project: Project,
    kind: str,
    key: str,
    title: str,
    link: str,
    since: datetime,
) -> None:
    """Open it, or keep it open with a new title (what is owed changed), or
    open it again (a failed payment reopens an invoice). `since` stays the
    first time it opened."""
    statement = insert(WaitingItem).values(
        id=uuid.uuid4(),
        tenant_id=project.tenant_id,
        project_id=project.id,
        kind=kind,
        key=key,
        title=title[:200],
        link=link[:500],
        since=since,
    )
    await uow.session.execute(
        statement.on_conflict_do_update(
            index_elements=["tenant_id", "kind", "key"],
            set_={
                "title": statement.excluded.title,
                "link": statement.excluded.link,
                "resolved_at": None,
            },
        )
    )


async def record_waiting_item(
    uow: UnitOfWork,
    *,
    project: Project,
    kind: str,
    key: str,
    title: str,
    link: str,
    now: datetime,
    open: bool,
    report_order: int,
) -> None:
    """Keep the item as the newest report says (the caller decided it is
    news): open (`since` = now if it was not open already) or resolved at
    now. A resolved row made here before its item ever opened keeps the
    report's place, so an older report arriving later changes nothing."""
    statement = insert(WaitingItem).values(
        id=uuid.uuid4(),
        tenant_id=project.tenant_id,
        project_id=project.id,
        kind=kind,
        key=key,
        title=title[:200],
        link=link[:500],
        since=now,
        resolved_at=None if open else now,
        report_order=report_order,
    )
    was_open = WaitingItem.resolved_at.is_(None)
    await uow.session.execute(
        statement.on_conflict_do_update(
            index_elements=["tenant_id", "kind", "key"],
            set_={
                "title": statement.excluded.title,
                "link": statement.excluded.link,
                "report_order": statement.excluded.report_order,
                "since": case((was_open, WaitingItem.since), else_=statement.excluded.since)
                if open
                else WaitingItem.since,
                "resolved_at": None
                if open
                else case(
                    (was_open, statement.excluded.resolved_at), else_=WaitingItem.resolved_at
                ),
            },
        )
    )
