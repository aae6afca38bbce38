"""Reading change orders (both sides): a project's list, one order (a
client's first look at a sent revision is recorded as viewed), and what
changed between two revisions."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from portal.changeorders.v1 import events_pb2
from sqlalchemy import select

from services.changeorders import domain_revisions
from services.changeorders.domain_diff import Diff
from services.changeorders.domain_orders import Status, client_may_see
from services.changeorders.models import ChangeOrder, Revision
from services.changeorders.service.audit import record
from services.changeorders.service.common import (
    OrderView,
    Sessions,
    actor_of,
    current_revision,
    load_contract,
    load_order,
    now_utc,
    order_view,
    set_status,
)
from services.chassis.access import require_open_portal
from services.chassis.audience import require_project_visible
from services.chassis.auth import Principal
from services.chassis.db import UnitOfWork
from services.chassis.errors import InvalidArgument
from services.chassis.validation import parse_uuid

PAGE_SIZE = 50


async def get_change_order(
    *,
    sessions: Sessions,
    principal: Principal,
    change_order_id: str,
    revision: int = 0,
    mark_viewed: bool = False,
) -> OrderView:
    """`mark_viewed`: the client opened it. The first look at a sent revision
    is its "viewed" (status, time, audit entry, event); staff viewing the
    portal as the client leave no trace."""
    tenant_id = principal.require_reader()
    marking = mark_viewed and principal.is_client and not principal.viewing_as
    async with UnitOfWork(sessions, tenant_id) as uow:
        order = await load_order(uow, principal, change_order_id, lock=marking)
        if not marking:
            return await order_view(uow, principal, order, revision)
        current = await current_revision(uow, order)
        if current.status != Status.SENT or revision not in (0, current.revision):
            return await order_view(uow, principal, order, revision)
        now = now_utc()
        current.viewed_at = now
        set_status(order, current, Status.VIEWED, now)
        await record(
            uow,
            order,
            action="viewed",
            actor=actor_of(principal),
            revision=current.revision,
            at=now,
            facts={"contact_id": principal.subject, "session_id": principal.session_id or ""},
        )
        contract = await load_contract(uow, order.project_id)
        uow.publish(
            events_pb2.ChangeOrderViewed(
                change_order_id=str(order.id),
                project_id=str(order.project_id),
                customer_id=str(order.customer_id),
                number=order.reference,
                revision=current.revision,
                viewer_contact_id=principal.subject,
                project_reference=contract.project_reference if contract else "",
            ),
            aggregate_type="change_order",
            aggregate_id=str(order.id),
            occurred_at=now,
        )
        await uow.flush()
        view = await order_view(uow, principal, order, revision)
        await uow.commit()
    return view


@dataclass(frozen=True)
class Summary:
    order: ChangeOrder
    revision: Revision  # the latest the caller may see
    currency: str


async def list_change_orders(
    *,
    sessions: Sessions,
    principal: Principal,
    project_id: str,
    page_size: int = 0,
    page_token: str = "",
) -> tuple[list[Summary], str]:
    """Newest first. A client sees only orders something was sent of."""
    tenant_id = principal.require_reader()
    pid = parse_uuid(project_id, field="project_id")
    size = min(max(page_size, 0) or PAGE_SIZE, 200)
    offset = _offset(page_token)
    async with UnitOfWork(sessions, tenant_id) as uow:
        query = select(ChangeOrder).where(ChangeOrder.project_id == pid)
        if principal.is_client:
            await require_open_portal(uow, principal)
            await require_project_visible(uow, principal, pid)
            customer = parse_uuid(principal.customer_id or "", field="customer_id")
            query = query.where(
                ChangeOrder.customer_id == customer,
                select(Revision.id)
                .where(Revision.change_order_id == ChangeOrder.id, Revision.sent_at.is_not(None))
                .exists(),
            )
        orders = list(
            await uow.session.scalars(
                query.order_by(ChangeOrder.number.desc()).offset(offset).limit(size + 1)
            )
        )
        more, orders = len(orders) > size, orders[:size]
        by_order: dict[object, list[Revision]] = defaultdict(list)
        for rev in await uow.session.scalars(
            select(Revision)
            .where(Revision.change_order_id.in_([o.id for o in orders]))
            .order_by(Revision.revision)
        ):
            if not principal.is_client or client_may_see(rev.sent_at):
                by_order[rev.change_order_id].append(rev)
        contract = await load_contract(uow, pid)
        currency = contract.currency if contract else ""
        summaries = [Summary(o, by_order[o.id][-1], currency) for o in orders if by_order[o.id]]
    return summaries, (str(offset + size) if more else "")


def _offset(token: str) -> int:
    if not token:
        return 0
    if not token.isdigit() or len(token) > 9:
        raise InvalidArgument("page_token is not one this service gave out", field="page_token")
    return int(token)


@dataclass(frozen=True)
class Comparison:
    earlier: OrderView
    later: OrderView
    lines: tuple[domain_revisions.RevisionChange, ...]

    @property
    def diffs(self) -> tuple[Diff, Diff]:
        return self.earlier.diff, self.later.diff


async def compare_revisions(
    *,
    sessions: Sessions,
    principal: Principal,
    change_order_id: str,
    from_revision: int,
    to_revision: int = 0,
) -> Comparison:
    """Two revisions as the caller sees each (a client: as they were sent)."""
    tenant_id = principal.require_reader()
    if from_revision < 1:
        raise InvalidArgument("name the earlier revision (1 or more)", field="from_revision")
    async with UnitOfWork(sessions, tenant_id) as uow:
        order = await load_order(uow, principal, change_order_id)
        earlier = await order_view(uow, principal, order, from_revision)
        later = await order_view(uow, principal, order, to_revision)
    return Comparison(earlier, later, domain_revisions.compare(earlier.diff, later.diff))
