"""What the change-order use cases share: who may call, loading an order the
caller may see (anything else is NOT_FOUND, never a hint that it exists),
the contract it changes, and the view each caller gets.

Lock order, everywhere: the change order row (then, for a decision, its
revisions), then the project's contract row. So two clicks on Approve, or an
approval racing a revision, run one after the other, and two orders of one
project are approved one at a time.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy import Select, bindparam, delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.changeorders.domain_changes import LineChange
from services.changeorders.domain_contract import Contract
from services.changeorders.domain_diff import Diff, build_diff, client_diff
from services.changeorders.domain_orders import SignedContent, Status, client_may_see
from services.changeorders.domain_schedule import (
    Schedule,
    StageMove,
    stage_moves,
    stages_from_dicts,
)
from services.changeorders.models import (
    Approval,
    ApprovalDeadline,
    ChangeOrder,
    Comment,
    ContractState,
    Revision,
)
from services.changeorders.projects_client import ProjectFacts, SignedBaseline
from services.chassis.access import require_open_portal
from services.chassis.audience import project_audience, require_project_visible
from services.chassis.auth import Principal
from services.chassis.db import UnitOfWork
from services.chassis.errors import InvalidTransition, NotFound
from services.chassis.validation import parse_uuid

Sessions = async_sessionmaker[AsyncSession]


def _read_or_lock(query: Select[Any]) -> dict[bool, Select[Any]]:
    return {False: query, True: query.with_for_update()}


EDITOR_ROLES = ("project_manager",)  # owner and admin pass too (chassis)
NOT_FOUND = "no such change order"
# Built once, each run with its row's id: on every read's and decision's path,
# building a statement cost more than running it. [False] reads, [True] locks.
_CLEAR_DEADLINE = delete(ApprovalDeadline).where(
    ApprovalDeadline.revision_id == bindparam("revision")
)
_ORDER = _read_or_lock(select(ChangeOrder).where(ChangeOrder.id == bindparam("order")))
_REVISIONS = _read_or_lock(
    select(Revision)
    .where(Revision.change_order_id == bindparam("order"))
    .order_by(Revision.revision)
)
_CONTRACT = _read_or_lock(
    select(ContractState).where(ContractState.project_id == bindparam("project"))
)
_COMMENTS = (
    select(Comment)
    .where(Comment.change_order_id == bindparam("order"))
    .order_by(Comment.created_at, Comment.line_key)
)


def now_utc() -> datetime:
    return datetime.now(UTC)


def timestamp(value: datetime | None) -> Timestamp | None:
    if value is None:
        return None
    out = Timestamp()
    out.FromDatetime(value)
    return out


class ProjectsReader(Protocol):
    """What the use cases ask projects (projects_client.ProjectsClient)."""

    async def project(self, tenant_id: str, project_id: str) -> ProjectFacts: ...

    async def signed_baseline(self, tenant_id: str, proposal_id: str) -> SignedBaseline: ...


def actor_of(principal: Principal) -> str:
    return f"{principal.kind}:{principal.subject}"


# -- loading ---------------------------------------------------------------------------


async def load_order(
    uow: UnitOfWork,
    principal: Principal,
    change_order_id: str,
    *,
    lock: bool = False,
    write: bool = False,
    check_sent: bool = True,
) -> ChangeOrder:
    """The order if the caller may see it: staff, any of the tenant's; a client,
    their customer's, on a project that is for them, once something was sent.
    `check_sent=False`: the caller checks "something was sent" itself, from
    the revisions it loads anyway (a decision: one statement fewer)."""
    oid = parse_uuid(change_order_id, field="change_order_id")
    if principal.is_client:
        # `write`: a decision needs a writable portal too (one check, one query).
        await require_open_portal(uow, principal, write=write)
    order = await uow.session.scalar(_ORDER[lock], {"order": oid})
    if order is None:
        raise NotFound(NOT_FOUND, field="change_order_id")
    if principal.is_client:
        if str(order.customer_id) != principal.customer_id:
            raise NotFound(NOT_FOUND, field="change_order_id")
        await require_project_visible(uow, principal, order.project_id, field="change_order_id")
        if not check_sent:
            return order
        sent = await uow.session.scalar(
            select(Revision.id).where(
                Revision.change_order_id == order.id, Revision.sent_at.is_not(None)
            )
        )
        if sent is None:
            raise NotFound(NOT_FOUND, field="change_order_id")
    return order


async def revisions_of(
    uow: UnitOfWork, order: ChangeOrder, *, lock: bool = False
) -> list[Revision]:
    return list(await uow.session.scalars(_REVISIONS[lock], {"order": order.id}))


def pick_revision(
    principal: Principal, revisions: Sequence[Revision], revision: int = 0
) -> Revision:
    """The revision asked for (0: the latest the caller may see)."""
    seen = [r for r in revisions if not principal.is_client or client_may_see(r.sent_at)]
    if revision:
        seen = [r for r in seen if r.revision == revision]
    if not seen:
        raise NotFound(f"this change order has no revision {revision}", field="revision")
    return seen[-1]


async def current_revision(uow: UnitOfWork, order: ChangeOrder, *, lock: bool = True) -> Revision:
    query = select(Revision).where(
        Revision.change_order_id == order.id, Revision.revision == order.current_revision
    )
    found = await uow.session.scalar(query.with_for_update() if lock else query)
    assert found is not None  # current_revision always names a row
    return found


async def load_contract(
    uow: UnitOfWork, project_id: uuid.UUID, *, lock: bool = False
) -> ContractState | None:
    return await uow.session.scalar(_CONTRACT[lock], {"project": project_id})


async def ensure_contract(
    uow: UnitOfWork, facts: ProjectFacts, signed: SignedBaseline | None
) -> ContractState:
    """The project's contract, kept from the accepted proposal the first time
    (two first orders at once: the insert that loses finds the winner's row)."""
    pid = parse_uuid(facts.project_id, field="project_id")
    existing = await load_contract(uow, pid, lock=True)
    if existing is not None:
        return existing
    if signed is None:
        raise InvalidTransition(
            "change orders start once the project's proposal has been accepted",
            field="project_id",
        )
    if signed.contract.totals().total_minor != signed.total_minor:
        raise InvalidTransition(
            "the accepted proposal's lines do not add up to its total; it cannot be a baseline",
            field="project_id",
        )
    baseline = signed.contract.as_dict()
    await uow.session.execute(
        insert(ContractState)
        .values(
            project_id=pid,
            tenant_id=uuid.UUID(str(uow.tenant_id)),
            customer_id=uuid.UUID(facts.customer_id),
            project_reference=facts.reference,
            project_name=facts.name,
            proposal_id=signed.proposal_id,
            currency=signed.contract.currency,
            signed=baseline,
            signed_total_minor=signed.total_minor,
            current=baseline,
            version=0,
        )
        .on_conflict_do_nothing(index_elements=[ContractState.project_id])
    )
    contract = await load_contract(uow, pid, lock=True)
    assert contract is not None
    return contract


async def keep_audience(uow: UnitOfWork, facts: ProjectFacts) -> None:
    """Fill a gap in our copy of the project's audience from what projects just
    said; the copy's own events (newest wins) keep it from then on."""
    await uow.session.execute(
        insert(project_audience)
        .values(
            project_id=uuid.UUID(facts.project_id),
            tenant_id=uuid.UUID(str(uow.tenant_id)),
            customer_id=uuid.UUID(facts.customer_id),
            visible_contact_ids=list(facts.visible_contact_ids),
            changed_at=now_utc(),
        )
        .on_conflict_do_nothing(index_elements=[project_audience.c.project_id])
    )


async def watch_deadline(uow: UnitOfWork, revision: Revision) -> None:
    if revision.approval_deadline is not None:
        uow.session.add(
            ApprovalDeadline(
                revision_id=revision.id,
                tenant_id=revision.tenant_id,
                change_order_id=revision.change_order_id,
                due_at=revision.approval_deadline,
            )
        )


async def clear_deadline(uow: UnitOfWork, revision: Revision) -> None:
    # One statement, not a load then a delete: on every approval's path.
    await uow.session.execute(_CLEAR_DEADLINE, {"revision": revision.id})


def set_status(order: ChangeOrder, revision: Revision, status: Status, now: datetime) -> None:
    revision.status = status
    if revision.revision == order.current_revision:
        order.status = status
    order.updated_at = now


# -- what a revision says ---------------------------------------------------------------


def changes_of(revision: Revision) -> tuple[LineChange, ...]:
    return tuple(LineChange.from_dict(c) for c in revision.changes)


def staff_diff(order: ChangeOrder, revision: Revision, contract: ContractState) -> Diff:
    _, diff = build_diff(
        Contract.from_dict(revision.baseline),
        changes_of(revision),
        key_prefix=order.reference,
        signed_total_minor=contract.signed_total_minor,
    )
    return diff


def schedule_of(revision: Revision) -> tuple[Schedule, tuple[StageMove, ...]]:
    schedule = Schedule(revision.schedule_days, revision.shift_from)
    return schedule, stage_moves(stages_from_dicts(revision.stages), schedule)


def signed_content(
    order: ChangeOrder, revision: Revision, contract: ContractState, consent_text: str
) -> SignedContent:
    """What the client will be shown and sign, built as the revision is sent."""
    schedule, moves = schedule_of(revision)
    deadline = revision.approval_deadline
    return SignedContent(
        number=order.reference,
        revision=revision.revision,
        project_reference=contract.project_reference,
        project_name=contract.project_name,
        title=revision.title,
        reason=revision.reason,
        diff=client_diff(staff_diff(order, revision, contract)),
        schedule=schedule,
        stages=moves,
        approval_deadline=deadline.astimezone(UTC).isoformat() if deadline else "",
        consent_text=consent_text,
    )


# -- the view --------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderView:
    """An order at one revision, as this caller may see it. Staff get the live
    diff with every line itemised, the changes and the baseline; a client gets
    the content frozen when the revision was sent (hidden lines folded)."""

    order: ChangeOrder
    revision: Revision
    for_client: bool
    diff: Diff
    schedule: Schedule
    stages: tuple[StageMove, ...]
    changes: tuple[LineChange, ...]
    baseline: Contract | None
    revisions: tuple[Revision, ...]
    comments: tuple[Comment, ...]
    approval: Approval | None
    project_reference: str
    project_name: str


async def order_view(
    uow: UnitOfWork,
    principal: Principal,
    order: ChangeOrder,
    revision: int = 0,
    *,
    known: tuple[ContractState, Approval | None] | None = None,
    revisions: Sequence[Revision] | None = None,
) -> OrderView:
    """`known`: the contract and approval the caller holds in this transaction
    (a decision just made), `revisions`: the order's revisions it loaded:
    neither read again."""
    if revisions is None:
        revisions = await revisions_of(uow, order)
    shown = pick_revision(principal, revisions, revision)
    contract = known[0] if known else await load_contract(uow, order.project_id)
    assert contract is not None  # an order exists only against a contract
    comments = tuple(await uow.session.scalars(_COMMENTS, {"order": order.id}))
    approval = (
        known[1]
        if known
        else await uow.session.scalar(select(Approval).where(Approval.change_order_id == order.id))
    )
    client = principal.is_client
    if client:
        content = SignedContent.from_json(shown.content_json or "")
        diff, schedule, moves = content.diff, content.schedule, content.stages
    else:
        diff = staff_diff(order, shown, contract)
        schedule, moves = schedule_of(shown)
    return OrderView(
        order=order,
        revision=shown,
        for_client=client,
        diff=diff,
        schedule=schedule,
        stages=moves,
        changes=() if client else changes_of(shown),
        baseline=None if client else Contract.from_dict(shown.baseline),
        revisions=tuple(r for r in revisions if not client or client_may_see(r.sent_at)),
        comments=comments,
        approval=approval,
        project_reference=contract.project_reference,
        project_name=contract.project_name,
    )
