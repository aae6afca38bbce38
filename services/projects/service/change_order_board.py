"""Changeorders' events kept for the status board: a change order waiting on
the client's approval is a waiting item until approved, pushed back, revised,
withdrawn or expired (`domain_changeorders`). The approval's handler
(`variations.on_change_order_approved`) calls `keep_change_order_waiting`
too, so each event type has one subscription.

Every handler takes the project's row lock first (as every change to a
project does), so reports about one order apply one after the other."""

from __future__ import annotations

import uuid
from datetime import UTC
from typing import Any

from portal.changeorders.v1 import events_pb2 as changeorder_events
from sqlalchemy import select

from services.chassis.db import UnitOfWork
from services.chassis.errors import NotFound
from services.chassis.events import Event
from services.projects import domain_changeorders
from services.projects.models import Project, WaitingItem
from services.projects.service.common import Tenants
from services.projects.service.waiting import record_waiting_item

# The events that only move the waiting item (ChangeOrderApproved also moves
# the contract value: its handler is `on_change_order_approved`).
EVENT_NAMES: dict[type[Any], str] = {
    changeorder_events.ChangeOrderSent: "sent",
    changeorder_events.ChangeOrderViewed: "viewed",
    changeorder_events.ChangeOrderPushedBack: "pushed_back",
    changeorder_events.ChangeOrderRevised: "revised",
    changeorder_events.ChangeOrderWithdrawn: "withdrawn",
    changeorder_events.ChangeOrderExpired: "expired",
}
CHANGE_ORDER_EVENTS = tuple(EVENT_NAMES)


def report_of(event_name: str, p: Any, time_zone: str = "") -> domain_changeorders.Report:
    sent = event_name == "sent"
    return domain_changeorders.Report(
        event=event_name,
        change_order_id=p.change_order_id,
        project_id=p.project_id,
        number=p.number,
        revision=p.revision,
        title=p.title if sent else "",
        deadline=(
            p.approval_deadline.ToDatetime(tzinfo=UTC)
            if sent and p.HasField("approval_deadline")
            else None
        ),
        time_zone=time_zone,
    )


async def locked_project(uow: UnitOfWork, project_id: str) -> Project:
    project = await uow.session.scalar(
        select(Project).where(Project.id == uuid.UUID(project_id)).with_for_update()
    )
    if project is None:
        raise NotFound("a change order was reported on a project projects does not have")
    return project


async def keep_change_order_waiting(
    uow: UnitOfWork, project: Project, report: domain_changeorders.Report, event: Event[Any]
) -> None:
    """Under the project's lock: open, reopen or resolve the order's item if
    this report is news."""
    held = await uow.session.scalar(
        select(WaitingItem).where(
            WaitingItem.kind == domain_changeorders.WAITING_KIND,
            WaitingItem.key == report.change_order_id,
        )
    )
    plan = domain_changeorders.plan_waiting(
        held.report_order if held else None, held is not None, report
    )
    if plan is None:
        return
    await record_waiting_item(
        uow,
        project=project,
        kind=domain_changeorders.WAITING_KIND,
        key=report.change_order_id,
        title=plan.title or (held.title if held else report.number),
        link=plan.link,
        now=event.occurred_at,
        open=plan.open,
        report_order=plan.report_order,
    )


async def on_change_order_event(uow: UnitOfWork, event: Event[Any], *, tenants: Tenants) -> None:
    """Any of `CHANGE_ORDER_EVENTS`."""
    name = EVENT_NAMES[type(event.payload)]
    # Only a `sent` dates its title; identity's zone (kept a minute) is asked
    # before the project's row lock, so the lock never waits on it.
    time_zone = await tenants.time_zone(event.tenant_id) if name == "sent" else ""
    report = report_of(name, event.payload, time_zone)
    project = await locked_project(uow, report.project_id)
    await keep_change_order_waiting(uow, project, report, event)
