"""The client's approval with an e-signature: the contract moves on, once.
The rules and what it writes are `domain_approval.py`; the other decision,
the push-back, is `push_back.py`."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from portal.changeorders.v1 import changeorders_pb2 as pb
from portal.changeorders.v1 import events_pb2
from portal.common.v1 import common_pb2
from sqlalchemy import bindparam, or_, select

from services.changeorders import domain_approval
from services.changeorders.domain_diff import Diff, changed_lines, changed_rooms
from services.changeorders.domain_orders import Status
from services.changeorders.models import (
    Approval,
    ChangeOrder,
    ContractState,
    Revision,
)
from services.changeorders.service.audit import record_and_publish
from services.changeorders.service.common import (
    NOT_FOUND,
    OrderView,
    Sessions,
    actor_of,
    clear_deadline,
    load_contract,
    load_order,
    now_utc,
    order_view,
    revisions_of,
    schedule_of,
    set_status,
    timestamp,
)
from services.chassis.auth import Principal
from services.chassis.db import UnitOfWork
from services.chassis.errors import NotFound
from services.chassis.money import money
from services.chassis.validation import check_request_id

# Built once (on every approval's path; building it cost more than running it).
_EARLIER = select(Approval.change_order_id, Approval.request_id).where(
    or_(Approval.change_order_id == bindparam("order"), Approval.request_id == bindparam("request"))
)


async def decided_revision(
    uow: UnitOfWork, principal: Principal, order: ChangeOrder, revision: int
) -> tuple[Revision, list[Revision]]:
    """The revision the client decides on (0: the current one), and all the
    order's revisions (the answer's view lists them), locked in one statement
    (under the order's row lock, which every change to a revision takes
    first). A client's order with nothing sent is NOT_FOUND, as `load_order`
    answers it: the decisions leave that check to these rows."""
    revisions = await revisions_of(uow, order, lock=True)
    wanted = revision or order.current_revision
    found = next((r for r in revisions if r.revision == wanted), None)
    if found is None or found.sent_at is None:
        if principal.is_client and all(r.sent_at is None for r in revisions):
            raise NotFound(NOT_FOUND, field="change_order_id")
        raise NotFound(f"{order.reference} has no revision {wanted}", field="revision")
    return found, revisions


async def approve_change_order(
    *,
    sessions: Sessions,
    principal: Principal,
    request_id: str,
    change_order_id: str,
    revision: int,
    signer_name: str,
    consent: bool,
    content_sha256: str,
    ip: str,
    user_agent: str,
    signer_email: str = "",
    client_name: str = "",
    consented_at: datetime | None = None,
    auth_method: str = "",
    letterhead: common_pb2.Letterhead | None = None,
) -> OrderView:
    """The approver signs the revision they were shown. The contract takes the
    order's lines in the same transaction, so two orders of one project are
    approved against the contract each was priced on, one after the other.
    `letterhead`: the integrator's, from the gateway; it rides in the approved
    event so the certificate filed in documents wears it."""
    tenant_id = principal.require_approver("approve a change order")
    signing = domain_approval.Signing(
        request_id=check_request_id(request_id) or str(uuid.uuid4()),
        consent=consent,
        signer_name=signer_name,
        content_sha256=content_sha256,
        ip=ip,
        user_agent=user_agent,
        auth_method=auth_method,
        consented_at=consented_at,
        signer_email=signer_email,
        client_name=client_name,
        contact_id=principal.subject,
        session_id=principal.session_id or "",
    )
    async with UnitOfWork(sessions, tenant_id) as uow:
        # By our own copy: an archived customer approves nothing, whatever the token says.
        order = await load_order(
            uow, principal, change_order_id, lock=True, write=True, check_sent=False
        )
        shown, revisions = await decided_revision(uow, principal, order, revision)
        contract = await load_contract(uow, order.project_id, lock=True)
        assert contract is not None  # an order exists only against a contract
        now = now_utc()
        plan = domain_approval.plan_approve(
            _shown(order, shown),
            signing,
            earlier=await _earlier(uow, order, signing.request_id),
            contract_version=contract.version,
            signed_total_minor=contract.signed_total_minor,
            now=now,
        )
        if plan is None:  # a retry of this approval
            return await order_view(uow, principal, order, shown.revision, revisions=revisions)
        signature = _sign(uow, order, shown, contract, plan, signing.request_id)
        await clear_deadline(uow, shown)
        await record_and_publish(
            uow,
            order,
            action="approved",
            actor=actor_of(principal),
            revision=shown.revision,
            at=now,
            facts=plan.facts,
            event=approved_event(order, shown, contract, plan.diff, signature, letterhead),
        )
        await uow.flush()
        view = await order_view(
            uow,
            principal,
            order,
            shown.revision,
            known=(contract, signature),
            revisions=revisions,
        )
        await uow.commit()
    return view


def _shown(order: ChangeOrder, shown: Revision) -> domain_approval.Shown:
    return domain_approval.Shown(
        number=order.reference,
        revision=shown.revision,
        current_revision=order.current_revision,
        status=shown.status,
        deadline=shown.approval_deadline,
        content_sha256=shown.content_sha256 or "",
        consent_text=shown.consent_text,
        viewed_at=shown.viewed_at,
        baseline=shown.baseline,
        baseline_version=shown.baseline_version,
        changes=shown.changes,
    )


async def _earlier(uow: UnitOfWork, order: ChangeOrder, request_id: str) -> domain_approval.Earlier:
    """The request that approved this order, if it is, else whether this
    request id approved another one."""
    # Both questions in one statement (it is on every approval's path).
    found = (await uow.session.execute(_EARLIER, {"order": order.id, "request": request_id})).all()
    for change_order_id, approved_by in found:
        if change_order_id == order.id:
            return domain_approval.Earlier(approved_by_request=approved_by)
    return domain_approval.Earlier(request_id_taken=bool(found))


def _sign(
    uow: UnitOfWork,
    order: ChangeOrder,
    shown: Revision,
    contract: ContractState,
    plan: domain_approval.Approve,
    request_id: str,
) -> Approval:
    """The signature row, the contract one version on, the revision approved."""
    kept = plan.signature
    signature = Approval(
        tenant_id=order.tenant_id,
        change_order_id=order.id,
        revision_id=shown.id,
        revision=shown.revision,
        request_id=request_id,
        signer_name=kept.signer_name,
        signer_contact_id=kept.signer_contact_id,
        signer_email=kept.signer_email,
        client_name=kept.client_name,
        signer_session_id=kept.session_id,
        auth_method=kept.auth_method,
        consent_text=kept.consent_text,
        viewed_at=kept.viewed_at,
        consented_at=kept.consented_at,
        signed_at=kept.signed_at,
        ip=kept.ip,
        user_agent=kept.user_agent,
        content_sha256=kept.content_sha256,
    )
    uow.session.add(signature)
    contract.current, contract.version = plan.contract.as_dict(), plan.contract_version
    contract.updated_at = shown.decided_at = kept.signed_at
    set_status(order, shown, Status.APPROVED, kept.signed_at)
    return signature


def approved_event(
    order: ChangeOrder,
    revision: Revision,
    contract: ContractState,
    diff: Diff,
    signature: Approval,
    letterhead: common_pb2.Letterhead | None = None,
) -> events_pb2.ChangeOrderApproved:
    """Everything the consumers act on, so none has to call back."""
    currency = contract.currency
    schedule, moves = schedule_of(revision)
    return events_pb2.ChangeOrderApproved(
        change_order_id=str(order.id),
        project_id=str(order.project_id),
        customer_id=str(order.customer_id),
        number=order.reference,
        revision=revision.revision,
        title=revision.title,
        price_impact=money(diff.impact_minor, currency),
        tax_impact=money(diff.tax_impact_minor, currency),
        contract_total=money(diff.after.total_minor, currency),
        schedule_impact_days=schedule.days,
        shift_from_stage=schedule.shift_from,
        stage_moves=[
            pb.StageMove(
                stage=m.before.stage,
                planned_start_before=_day(m.before.planned_start),
                planned_finish_before=_day(m.before.planned_finish),
                planned_start_after=_day(m.after.planned_start),
                planned_finish_after=_day(m.after.planned_finish),
            )
            for m in moves
            if m.moved
        ],
        affected_rooms=[room.name for room in changed_rooms(diff)],
        lines=[
            pb.LineSummary(
                line_key=line.key,
                room_key=room.key,
                room_name=room.name,
                description=line.shown.description,
                kind=pb.LineChangeKind.Value(f"LINE_CHANGE_KIND_{line.kind.name}"),
                quantity_before=line.before.quantity if line.before else 0,
                quantity_after=line.after.quantity if line.after else 0,
                amount_change=money(line.total_after_minor - line.total_before_minor, currency),
                labour=line.shown.labour,
                client_visible=line.shown.client_visible,
            )
            for room, line in changed_lines(diff)
        ],
        signer_name=signature.signer_name,
        signer_email=signature.signer_email,
        signer_contact_id=signature.signer_contact_id,
        approved_at=timestamp(signature.signed_at),
        content_sha256=signature.content_sha256,
        project_reference=contract.project_reference,
        project_name=contract.project_name,
        letterhead=letterhead,
    )


def _day(value: date | None) -> str:
    return value.isoformat() if value else ""
