"""Models and service results -> protobuf messages. No decisions here: what a
caller may see was decided by the service layer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp
from portal.common.v1 import common_pb2
from portal.projects.v1 import projects_pb2 as pb
from sqlalchemy import Row

from services.projects import domain_stages, service
from services.projects.domain_payments import STAGE_OF_TRIGGER
from services.projects.models import Project, ProjectStage, ProposalSignature
from services.projects.service.board import OnItsWayRow, WaitingRow
from services.projects.service.board_payments import NextPaymentRow
from services.projects.service.stages import StageRow


def ts(value: datetime | None) -> Timestamp | None:
    if value is None:
        return None
    out = Timestamp()
    out.FromDatetime(value)
    return out


def money(amount_minor: int, currency: str) -> common_pb2.Money:
    return common_pb2.Money(currency=currency, amount_minor=amount_minor)


def project_pb(p: Project | Row[Any], *, for_client: bool = False) -> pb.Project:
    return pb.Project(
        id=str(p.id),
        reference=p.reference,
        name=p.name,
        customer_id=str(p.customer_id),
        site_address=p.site_address,
        stage=p.stage,  # type: ignore[arg-type]
        created_at=ts(p.created_at),
        stage_changed_at=ts(p.stage_changed_at),
        project_manager_id=p.project_manager_id,
        project_manager_name=p.project_manager_name,
        project_manager_email=p.project_manager_email,
        # Which of the customer's contacts see the project is the integrator's business.
        visible_contact_ids=[] if for_client else list(p.visible_contact_ids),
        service_contract=p.service_contract,
    )


def stage_info_pb(row: ProjectStage | StageRow) -> pb.StageInfo:
    return pb.StageInfo(
        stage=row.stage,  # type: ignore[arg-type]
        planned_start=domain_stages.format_date(row.planned_start),
        planned_finish=domain_stages.format_date(row.planned_finish),
        actual_start=domain_stages.format_date(row.actual_start),
        actual_finish=domain_stages.format_date(row.actual_finish),
        client_note=row.client_note,
        note_updated_at=ts(row.note_updated_at),
    )


def stage_change_pb(c: service.HistoryEntry) -> pb.StageChange:
    return pb.StageChange(
        from_stage=c.from_stage,  # type: ignore[arg-type]
        to_stage=c.to_stage,  # type: ignore[arg-type]
        changed_by=c.changed_by,
        reason=c.reason,
        client_note=c.client_note,
        changed_at=ts(c.changed_at),
    )


def line_pb(v: service.LineView) -> pb.ProductLine:
    line = v.line
    return pb.ProductLine(
        id=str(line.id),
        room_id=str(line.room_id),
        manufacturer=line.manufacturer,
        model=line.model,
        description=line.description,
        quantity=line.quantity,
        unit_price=money(line.unit_price_minor, v.currency),
        line_total=money(v.line_total_minor, v.currency),
        client_visible=line.client_visible,
        position=line.position,
    )


def room_pb(v: service.RoomView) -> pb.Room:
    return pb.Room(
        id=str(v.room.id),
        name=v.room.name,
        client_visible=v.room.client_visible,
        position=v.room.position,
        lines=[line_pb(line) for line in v.lines],
        total=money(v.total_minor, v.currency),
    )


def waiting_pb(w: WaitingRow) -> pb.WaitingItem:
    return pb.WaitingItem(kind=w.kind, title=w.title, link=w.link, since=ts(w.since))


def budget_pb(b: service.Budget) -> pb.Budget:
    return pb.Budget(
        accepted_proposal=money(b.accepted_proposal_minor, b.currency),
        approved_variations=money(b.approved_variations_minor, b.currency),
        contract_value=money(b.contract_value_minor, b.currency),
        accepted_proposal_id=b.accepted_proposal_id,
    )


def board_pb(board: service.StatusBoard) -> pb.GetStatusBoardResponse:
    return pb.GetStatusBoardResponse(
        project=project_pb(board.project, for_client=board.for_client),
        stages=[stage_info_pb(s) for s in board.stages],
        forecast_handover=domain_stages.format_date(board.forecast_handover),
        recent_notes=[stage_change_pb(n) for n in board.recent_notes],
        waiting_on=[waiting_pb(w) for w in board.waiting_on],
        budget=budget_pb(board.budget),
        next_payment=next_payment_pb(board.next_payment),
        on_its_way=[on_its_way_pb(w) for w in board.on_its_way or []],
        handover_moved_by=board.handover_moved.by if board.handover_moved else "",
        handover_moved_from=(
            board.handover_moved.from_date.isoformat() if board.handover_moved else ""
        ),
    )


def next_payment_pb(n: NextPaymentRow | None) -> pb.NextPayment | None:
    if n is None:
        return None
    stage = STAGE_OF_TRIGGER.get(n.trigger)
    return pb.NextPayment(
        label=n.label,
        stage=pb.Stage.Value(f"STAGE_{stage.upper()}") if stage else pb.STAGE_UNSPECIFIED,
        amount=money(n.amount_minor, n.currency),
        invoice_id=n.invoice_id,
        invoice_number=n.invoice_number,
        due_on=domain_stages.format_date(n.due_on),
        held_for_verification=money(n.held_minor, n.currency) if n.held_minor else None,
        when=n.when,
    )


def on_its_way_pb(w: OnItsWayRow) -> pb.PaymentOnItsWay:
    return pb.PaymentOnItsWay(
        invoice_id=w.invoice_id,
        invoice_number=w.invoice_number,
        amount=money(w.amount_minor, w.currency),
        expected_by=domain_stages.format_date(w.expected_by),
    )


def signature_pb(s: ProposalSignature) -> pb.Signature:
    return pb.Signature(
        signer_name=s.signer_name,
        signer_contact_id=s.signer_contact_id,
        signer_email=s.signer_email,
        consent_text=s.consent_text,
        signed_at=ts(s.signed_at),
        ip=s.ip,
        user_agent=s.user_agent,
        content_sha256=s.content_sha256,
    )


def proposal_pb(v: service.ProposalView) -> pb.Proposal:
    p = v.proposal
    currency = p.currency
    return pb.Proposal(
        id=str(p.id),
        project_id=str(p.project_id),
        version=p.version,
        status=p.status,  # type: ignore[arg-type]
        title=p.title,
        introduction=p.introduction,
        rooms=[
            pb.ProposalRoom(
                name=room.name,
                lines=[
                    pb.ProposalLine(
                        description=line.description,
                        quantity=line.quantity,
                        unit_price=money(line.unit_price_minor, currency),
                        line_total=money(line.line_total_minor, currency),
                        client_visible=line.client_visible,
                    )
                    for line in room.lines
                ],
                other_items=money(room.other_items_minor, currency),
                total=money(room.total_minor, currency),
                client_visible=room.client_visible,
            )
            for room in v.rooms
        ],
        labour=money(p.labour_minor, currency),
        discount=money(p.discount_minor, currency),
        tax_rate_bps=p.tax_rate_bps,
        subtotal=money(p.subtotal_minor, currency),
        tax=money(p.tax_minor, currency),
        total=money(p.total_minor, currency),
        content_sha256=p.content_sha256 or "",
        sent_at=ts(p.sent_at),
        signature=signature_pb(v.signature) if v.signature else None,
        consent_text=p.consent_text,
    )
