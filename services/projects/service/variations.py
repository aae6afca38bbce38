"""Approved change orders become variations of the contract: the budget on
the board (accepted proposal + approved variations) reads them."""

from __future__ import annotations

import uuid
from datetime import UTC

from portal.changeorders.v1 import events_pb2 as changeorder_events
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from services.chassis.db import UnitOfWork
from services.chassis.errors import InvalidArgument, NotFound
from services.chassis.events import Event
from services.projects.models import Project, Variation
from services.projects.service.change_order_board import keep_change_order_waiting, report_of

SOURCE = "change_order"


async def on_change_order_approved(
    uow: UnitOfWork, event: Event[changeorder_events.ChangeOrderApproved]
) -> None:
    """Record the order's price impact once (a redelivery, or the same order
    approved twice over, finds its variation and adds nothing), and the sum
    the budget reads with it in this transaction."""
    p = event.payload
    project_id = uuid.UUID(p.project_id)
    # The project row first, as every change to a project takes it: two
    # orders approved at once add up one after the other.
    project = await uow.session.scalar(
        select(Project).where(Project.id == project_id).with_for_update()
    )
    if project is None:
        raise NotFound("a change order was approved on a project projects does not have")
    if p.price_impact.currency != project.currency:
        raise InvalidArgument(
            f"{p.number} is priced in {p.price_impact.currency}, the project in {project.currency}"
        )
    recorded = await uow.session.scalar(
        insert(Variation)
        .values(
            id=uuid.uuid4(),
            tenant_id=project.tenant_id,
            project_id=project.id,
            source=SOURCE,
            source_id=p.change_order_id,
            reference=p.number,
            amount_minor=p.price_impact.amount_minor,
            currency=p.price_impact.currency,
            approved_at=(
                p.approved_at.ToDatetime(tzinfo=UTC)
                if p.HasField("approved_at")
                else event.occurred_at
            ),
        )
        .on_conflict_do_nothing(index_elements=["tenant_id", "source", "source_id"])
        .returning(Variation.id)
    )
    # Approved: no longer awaiting the client (a redelivery finds it resolved).
    await keep_change_order_waiting(uow, project, report_of("approved", p), event)
    if recorded is None:
        return
    project.approved_variations_minor += p.price_impact.amount_minor
