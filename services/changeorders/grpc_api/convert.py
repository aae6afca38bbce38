"""Protobuf <-> the domain and service results. No decisions here: what a
caller may see was decided by the service layer."""

from __future__ import annotations

from datetime import UTC, date, datetime

from google.protobuf.timestamp_pb2 import Timestamp
from portal.changeorders.v1 import changeorders_pb2 as pb

from services.changeorders import domain_revisions
from services.changeorders.domain_changes import ChangeKind, LineChange
from services.changeorders.domain_contract import Contract, Line, Totals
from services.changeorders.domain_diff import Diff, LineDiff, RoomDiff
from services.changeorders.domain_schedule import Schedule, StageMove
from services.changeorders.models import Approval, Comment, Revision
from services.changeorders.service import Comparison, OrderView, Summary
from services.chassis.errors import InvalidArgument
from services.chassis.money import money


def ts(value: datetime | None) -> Timestamp | None:
    if value is None:
        return None
    out = Timestamp()
    out.FromDatetime(value)
    return out


def moment(value: Timestamp, present: bool) -> datetime | None:
    """A request's timestamp field, None when it was not set."""
    return value.ToDatetime(tzinfo=UTC) if present else None


def day(value: date | None) -> str:
    return value.isoformat() if value else ""


# -- in ------------------------------------------------------------------------------

_KIND_IN = {
    pb.LINE_CHANGE_KIND_ADDED: ChangeKind.ADDED,
    pb.LINE_CHANGE_KIND_REMOVED: ChangeKind.REMOVED,
    pb.LINE_CHANGE_KIND_QUANTITY: ChangeKind.QUANTITY,
    pb.LINE_CHANGE_KIND_SWAPPED: ChangeKind.SWAPPED,
    pb.LINE_CHANGE_KIND_REPRICED: ChangeKind.REPRICED,
    pb.LINE_CHANGE_KIND_LABOUR: ChangeKind.LABOUR,
}


def line_changes(messages: list[pb.LineChange]) -> list[LineChange]:
    out = []
    for i, m in enumerate(messages):
        if m.kind not in _KIND_IN:
            raise InvalidArgument(
                "each change needs a kind: added, removed, quantity, swapped, repriced or labour",
                field=f"changes[{i}].kind",
            )
        out.append(
            LineChange(
                kind=_KIND_IN[m.kind],
                line_key=m.line_key.strip(),
                room_key=m.room_key.strip(),
                new_room_name=m.new_room_name,
                description=m.description,
                quantity=m.quantity if m.HasField("quantity") else None,
                unit_price_minor=m.unit_price_minor if m.HasField("unit_price_minor") else None,
                client_visible=m.client_visible,
                labour=m.labour,
                labour_minor=m.labour_minor if m.HasField("labour_minor") else None,
                note=m.note,
            )
        )
    return out


# -- out -----------------------------------------------------------------------------


def kind_pb(name: str) -> pb.LineChangeKind:
    return pb.LineChangeKind.Value(f"LINE_CHANGE_KIND_{name.upper()}")


def change_pb(c: LineChange) -> pb.LineChange:
    out = pb.LineChange(
        kind=kind_pb(c.kind.value),
        line_key=c.line_key,
        room_key=c.room_key,
        new_room_name=c.new_room_name,
        description=c.description,
        client_visible=c.client_visible,
        labour=c.labour,
        note=c.note,
    )
    if c.quantity is not None:
        out.quantity = c.quantity
    if c.unit_price_minor is not None:
        out.unit_price_minor = c.unit_price_minor
    if c.labour_minor is not None:
        out.labour_minor = c.labour_minor
    return out


def totals_pb(t: Totals, currency: str) -> pb.Totals:
    return pb.Totals(
        items=money(t.items_minor, currency),
        labour=money(t.labour_minor, currency),
        discount=money(t.discount_minor, currency),
        subtotal=money(t.subtotal_minor, currency),
        tax=money(t.tax_minor, currency),
        total=money(t.total_minor, currency),
    )


def _side(line: Line | None) -> tuple[str, int, int, int]:
    if line is None:
        return "", 0, 0, 0
    return line.description, line.quantity, line.unit_price_minor, line.total_minor


def line_diff_pb(x: LineDiff, currency: str, *, for_client: bool) -> pb.LineDiff:
    d0, q0, p0, t0 = _side(x.before)
    d1, q1, p1, t1 = _side(x.after)
    return pb.LineDiff(
        line_key=x.key,
        kind=kind_pb(x.kind.value),
        description_before=d0,
        description_after=d1,
        quantity_before=q0,
        quantity_after=q1,
        unit_price_before=money(p0, currency),
        unit_price_after=money(p1, currency),
        total_before=money(t0, currency),
        total_after=money(t1, currency),
        note=x.note,
        client_visible=True if for_client else x.shown.client_visible,
        labour=x.shown.labour,
    )


def room_diff_pb(r: RoomDiff, currency: str, *, for_client: bool) -> pb.RoomDiff:
    return pb.RoomDiff(
        room_key=r.key,
        name=r.name,
        added=r.added,
        lines=[line_diff_pb(x, currency, for_client=for_client) for x in r.lines],
        other_items_before=money(r.other_before_minor, currency),
        other_items_after=money(r.other_after_minor, currency),
        total_before=money(r.total_before_minor, currency),
        total_after=money(r.total_after_minor, currency),
        changed=r.changed,
    )


def diff_pb(d: Diff, *, for_client: bool) -> pb.Diff:
    c = d.currency
    return pb.Diff(
        rooms=[room_diff_pb(r, c, for_client=for_client) for r in d.rooms],
        before=totals_pb(d.before, c),
        after=totals_pb(d.after, c),
        signed_total=money(d.signed_total_minor, c),
        price_impact=money(d.impact_minor, c),
        tax_impact=money(d.tax_impact_minor, c),
        tax_rate_bps=d.tax_rate_bps,
    )


def stage_move_pb(m: StageMove) -> pb.StageMove:
    return pb.StageMove(
        stage=m.before.stage,
        planned_start_before=day(m.before.planned_start),
        planned_finish_before=day(m.before.planned_finish),
        planned_start_after=day(m.after.planned_start),
        planned_finish_after=day(m.after.planned_finish),
    )


def schedule_pb(s: Schedule, moves: tuple[StageMove, ...]) -> pb.Schedule:
    return pb.Schedule(
        impact_days=s.days,
        shift_from_stage=s.shift_from,
        stages=[stage_move_pb(m) for m in moves],
    )


def baseline_pb(c: Contract) -> list[pb.ContractRoom]:
    return [
        pb.ContractRoom(
            key=r.key,
            name=r.name,
            client_visible=r.client_visible,
            lines=[
                pb.ContractLine(
                    key=x.key,
                    description=x.description,
                    quantity=x.quantity,
                    unit_price=money(x.unit_price_minor, c.currency),
                    line_total=money(x.total_minor, c.currency),
                    client_visible=x.client_visible,
                    labour=x.labour,
                )
                for x in r.lines
            ],
            total=money(r.total_minor, c.currency),
        )
        for r in c.rooms
    ]


def signature_pb(a: Approval) -> pb.Signature:
    return pb.Signature(
        signer_name=a.signer_name,
        signer_contact_id=a.signer_contact_id,
        signer_email=a.signer_email,
        consent_text=a.consent_text,
        auth_method=a.auth_method,
        viewed_at=ts(a.viewed_at),
        consented_at=ts(a.consented_at),
        signed_at=ts(a.signed_at),
        ip=a.ip,
        user_agent=a.user_agent,
        content_sha256=a.content_sha256,
        revision=a.revision,
    )


def comment_pb(c: Comment, *, for_client: bool) -> pb.Comment:
    return pb.Comment(
        id=str(c.id),
        revision=c.revision,
        line_key=c.line_key,
        line_description=c.line_description,
        author_kind=c.author_kind,
        author_name=c.author_name,
        body=c.body,
        created_at=ts(c.created_at),
        # Staff name a staff author from identity by this; a client reads the integrator's name.
        author_id="" if for_client else c.author_id,
    )


def revision_summary_pb(r: Revision, currency: str) -> pb.RevisionSummary:
    return pb.RevisionSummary(
        revision=r.revision,
        status=r.status,  # type: ignore[arg-type]
        sent_at=ts(r.sent_at),
        price_impact=money(r.impact_minor, currency),
    )


def change_order_pb(v: OrderView) -> pb.ChangeOrder:
    o, r, currency = v.order, v.revision, v.diff.currency
    return pb.ChangeOrder(
        id=str(o.id),
        project_id=str(o.project_id),
        customer_id=str(o.customer_id),
        number=o.reference,
        revision=r.revision,
        latest_revision=v.revisions[-1].revision if v.revisions else r.revision,
        status=r.status,  # type: ignore[arg-type]
        title=r.title,
        reason=r.reason,
        changes=[change_pb(c) for c in v.changes],
        diff=diff_pb(v.diff, for_client=v.for_client),
        schedule=schedule_pb(v.schedule, v.stages),
        approval_deadline=ts(r.approval_deadline),
        content_sha256=r.content_sha256 or "",
        consent_text=r.consent_text,
        sent_at=ts(r.sent_at),
        viewed_at=ts(r.viewed_at),
        decided_at=ts(r.decided_at),
        signature=signature_pb(v.approval) if v.approval else None,
        comments=[comment_pb(c, for_client=v.for_client) for c in v.comments],
        revisions=[revision_summary_pb(x, currency) for x in v.revisions],
        project_reference=v.project_reference,
        project_name=v.project_name,
        baseline=baseline_pb(v.baseline) if v.baseline else [],
        withdrawn_reason=r.withdrawn_reason,
    )


def summary_pb(s: Summary) -> pb.ChangeOrder:
    o, r = s.order, s.revision
    return pb.ChangeOrder(
        id=str(o.id),
        project_id=str(o.project_id),
        customer_id=str(o.customer_id),
        number=o.reference,
        revision=r.revision,
        latest_revision=o.current_revision,
        status=r.status,  # type: ignore[arg-type]
        title=r.title,
        diff=pb.Diff(price_impact=money(r.impact_minor, s.currency)) if s.currency else None,
        schedule=pb.Schedule(impact_days=r.schedule_days, shift_from_stage=r.shift_from),
        approval_deadline=ts(r.approval_deadline),
        sent_at=ts(r.sent_at),
        decided_at=ts(r.decided_at),
    )


def _state(s: domain_revisions.LineState | None, currency: str) -> tuple[int, int, object]:
    if s is None:
        return pb.LINE_CHANGE_KIND_UNCHANGED, 0, money(0, currency)
    return kind_pb(s.kind.value), s.quantity, money(s.total_minor, currency)


def comparison_pb(c: Comparison) -> pb.CompareRevisionsResponse:
    a, b = c.earlier, c.later
    currency = b.diff.currency
    lines = []
    for x in c.lines:
        k0, q0, t0 = _state(x.before, currency)
        k1, q1, t1 = _state(x.after, currency)
        lines.append(
            pb.RevisionChange(
                room_name=x.room_name,
                line_key=x.key,
                description=x.description,
                kind_from=k0,  # type: ignore[arg-type]
                kind_to=k1,  # type: ignore[arg-type]
                quantity_from=q0,
                quantity_to=q1,
                total_from=t0,  # type: ignore[arg-type]
                total_to=t1,  # type: ignore[arg-type]
            )
        )
    return pb.CompareRevisionsResponse(
        from_revision=a.revision.revision,
        to_revision=b.revision.revision,
        lines=lines,
        price_impact_from=money(a.diff.impact_minor, currency),
        price_impact_to=money(b.diff.impact_minor, currency),
        schedule_days_from=a.schedule.days,
        schedule_days_to=b.schedule.days,
        title_changed=a.revision.title != b.revision.title,
        reason_changed=a.revision.reason != b.revision.reason,
    )
