"""The client's decisions: approve with an e-signature (the contract moves on,
once), or push back with comments on the order or its lines."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime

from portal.changeorders.v1 import changeorders_pb2 as pb
from portal.changeorders.v1 import events_pb2
from portal.common.v1 import common_pb2
from sqlalchemy import select

from services.changeorders import domain_approval
from services.changeorders.domain_changes import apply_changes
from services.changeorders.domain_contract import Contract
from services.changeorders.domain_diff import Diff, changed_lines, changed_rooms
from services.changeorders.domain_orders import SignedContent, Status
from services.changeorders.models import (
    Approval,
    ChangeOrder,
    Comment,
    ContractState,
    Revision,
)
from services.changeorders.service.audit import record
from services.changeorders.service.common import (
    OrderView,
    Sessions,
    actor_of,
    changes_of,
    clear_deadline,
    load_contract,
    load_order,
    now_utc,
    order_view,
    schedule_of,
    set_status,
    staff_diff,
    timestamp,
)
from services.chassis.access import require_open_portal
from services.chassis.auth import Principal
from services.chassis.db import UnitOfWork
from services.chassis.errors import NotFound
from services.chassis.money import money
from services.chassis.validation import check_request_id


async def _decided_revision(uow: UnitOfWork, order: ChangeOrder, revision: int) -> Revision:
    """The revision the client decides on (0: the current one), locked."""
    wanted = revision or order.current_revision
    found = await uow.session.scalar(
        select(Revision)
        .where(Revision.change_order_id == order.id, Revision.revision == wanted)
        .with_for_update()
    )
    if found is None or found.sent_at is None:
        raise NotFound(f"{order.reference} has no revision {wanted}", field="revision")
    return found


def _iso(value: datetime | None) -> str:
    return value.isoformat() if value else ""


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
    request_id = check_request_id(request_id) or str(uuid.uuid4())
    async with UnitOfWork(sessions, tenant_id) as uow:
        # By our own copy: an archived customer approves nothing, whatever the token says.
        await require_open_portal(uow, principal, write=True)
        order = await load_order(uow, principal, change_order_id, lock=True)
        shown = await _decided_revision(uow, order, revision)
        contract = await load_contract(uow, order.project_id, lock=True)
        assert contract is not None
        approval = await uow.session.scalar(
            select(Approval).where(Approval.change_order_id == order.id)
        )
        taken = approval is None and await uow.session.scalar(
            select(Approval.id).where(Approval.request_id == request_id)
        )
        now = now_utc()
        plan = domain_approval.plan_approval(
            request_id=request_id,
            earlier=domain_approval.Earlier(
                approved_by_request=approval.request_id if approval else None,
                request_id_taken=bool(taken),
            ),
            status=shown.status,
            number=order.reference,
            revision=shown.revision,
            current_revision=order.current_revision,
            deadline=shown.approval_deadline,
            now=now,
            baseline_current=shown.baseline_version == contract.version,
            stored_sha256=shown.content_sha256 or "",
            given_sha256=content_sha256,
            consent=consent,
            signer_name=signer_name,
            ip=ip,
            user_agent=user_agent,
            auth_method=auth_method,
            viewed_at=shown.viewed_at,
            consented_at=consented_at,
        )
        if plan.evidence is None:  # a retry of this approval
            return await order_view(uow, principal, order, shown.revision)
        evidence = plan.evidence
        diff = staff_diff(order, shown, contract)
        after = apply_changes(
            Contract.from_dict(shown.baseline), changes_of(shown), key_prefix=order.reference
        )
        contract.current, contract.version = after.as_dict(), contract.version + 1
        contract.updated_at = now
        signature = Approval(
            tenant_id=order.tenant_id,
            change_order_id=order.id,
            revision_id=shown.id,
            revision=shown.revision,
            request_id=request_id,
            signer_name=evidence.signer_name,
            signer_contact_id=principal.subject,
            # From the signer's session, as the gateway read it; kept as evidence.
            signer_email=signer_email.strip()[:320],
            client_name=client_name.strip()[:200],
            signer_session_id=principal.session_id or "",
            auth_method=evidence.auth_method,
            consent_text=shown.consent_text,
            viewed_at=shown.viewed_at,
            consented_at=evidence.consented_at,
            signed_at=now,
            ip=evidence.ip,
            user_agent=evidence.user_agent,
            content_sha256=shown.content_sha256 or "",
        )
        uow.session.add(signature)
        shown.decided_at = now
        set_status(order, shown, Status.APPROVED, now)
        await clear_deadline(uow, shown)
        await record(
            uow,
            order,
            action="approved",
            actor=actor_of(principal),
            revision=shown.revision,
            at=now,
            facts={
                "signer_name": signature.signer_name,
                "signer_contact_id": signature.signer_contact_id,
                "signer_email": signature.signer_email,
                "auth_method": signature.auth_method,
                "session_id": signature.signer_session_id,
                "consent_text": signature.consent_text,
                "viewed_at": _iso(signature.viewed_at),
                "consented_at": _iso(signature.consented_at),
                "signed_at": _iso(now),
                "ip": signature.ip,
                "user_agent": signature.user_agent,
                "content_sha256": signature.content_sha256,
                "price_impact_minor": diff.impact_minor,
                "contract_version": contract.version,
            },
        )
        uow.publish(
            approved_event(order, shown, contract, diff, signature, letterhead),
            aggregate_type="change_order",
            aggregate_id=str(order.id),
            occurred_at=now,
        )
        await uow.flush()
        view = await order_view(uow, principal, order, shown.revision)
        await uow.commit()
    return view


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


async def push_back_change_order(
    *,
    sessions: Sessions,
    principal: Principal,
    request_id: str,
    change_order_id: str,
    revision: int,
    comment: str,
    line_comments: Sequence[tuple[str, str]],
    author_name: str = "",
) -> OrderView:
    """The approver says what they would like changed, on the order or on
    lines they were shown; staff revise from there."""
    tenant_id = principal.require_approver("push back on a change order")
    request_id = check_request_id(request_id) or str(uuid.uuid4())
    async with UnitOfWork(sessions, tenant_id) as uow:
        await require_open_portal(uow, principal, write=True)
        order = await load_order(uow, principal, change_order_id, lock=True)
        shown = await _decided_revision(uow, order, revision)
        if shown.status == Status.PUSHED_BACK and shown.decision_request_id == request_id:
            return await order_view(uow, principal, order, shown.revision)  # a retry
        content = SignedContent.from_json(shown.content_json or "")
        lines = {line.key: line for room in content.diff.rooms for line in room.lines}
        now = now_utc()
        decision = domain_approval.check_push_back(
            status=shown.status,
            number=order.reference,
            revision=shown.revision,
            current_revision=order.current_revision,
            deadline=shown.approval_deadline,
            now=now,
            comment=comment,
            line_comments=line_comments,
            line_keys=lines.keys(),
        )
        name = " ".join(author_name.split())[:200]
        said = [("", "", decision.comment)] if decision.comment else []
        said += [(key, lines[key].shown.description, body) for key, body in decision.line_comments]
        for key, description, body in said:
            uow.session.add(
                Comment(
                    tenant_id=order.tenant_id,
                    change_order_id=order.id,
                    revision=shown.revision,
                    line_key=key,
                    line_description=description,
                    author_kind="client",
                    author_id=principal.subject,
                    author_name=name,
                    body=body,
                    created_at=now,
                )
            )
        shown.decided_at, shown.decision_request_id = now, request_id
        set_status(order, shown, Status.PUSHED_BACK, now)
        await clear_deadline(uow, shown)
        await record(
            uow,
            order,
            action="pushed_back",
            actor=actor_of(principal),
            revision=shown.revision,
            at=now,
            facts={
                "comment": decision.comment,
                "line_comments": [list(pair) for pair in decision.line_comments],
                "author_name": name,
            },
        )
        uow.publish(
            events_pb2.ChangeOrderPushedBack(
                change_order_id=str(order.id),
                project_id=str(order.project_id),
                customer_id=str(order.customer_id),
                number=order.reference,
                revision=shown.revision,
                comment=decision.comment,
                line_keys=[key for key, _ in decision.line_comments],
                author_contact_id=principal.subject,
                author_name=name,
                project_reference=content.project_reference,
            ),
            aggregate_type="change_order",
            aggregate_id=str(order.id),
            occurred_at=now,
        )
        await uow.flush()
        view = await order_view(uow, principal, order, shown.revision)
        await uow.commit()
    return view
