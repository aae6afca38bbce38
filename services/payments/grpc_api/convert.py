"""Models and service results -> protobuf messages. No decisions here: what a
caller may see was decided by the service layer."""

from __future__ import annotations

from datetime import date, datetime

from google.protobuf.timestamp_pb2 import Timestamp
from portal.payments.v1 import payments_pb2 as pb

from services.chassis import enums
from services.chassis.money import money
from services.payments import domain_microdeposits
from services.payments.models import Payment, PaymentSettings
from services.payments.service import (
    ConnectionView,
    InvoiceView,
    PlanView,
    SyncView,
    VariationPreview,
)


def ts(value: datetime | None) -> Timestamp | None:
    if value is None:
        return None
    out = Timestamp()
    out.FromDatetime(value)
    return out


def day(value: date | None) -> str:
    return value.isoformat() if value else ""


def payment_pb(p: Payment, refunded_minor: int, *, for_client: bool) -> pb.Payment:
    charged = p.applied_minor + p.surcharge_minor - p.discount_minor
    return pb.Payment(
        id=str(p.id),
        invoice_id=str(p.invoice_id),
        status=enums.value(pb.PaymentStatus, p.status),  # type: ignore[arg-type]
        method=p.method,
        applied=money(p.applied_minor, p.currency),
        surcharge=money(p.surcharge_minor, p.currency),
        discount=money(p.discount_minor, p.currency),
        charged=money(charged, p.currency),
        refunded=money(refunded_minor, p.currency),
        reference=p.reference,
        failure_message=p.failure_message,
        expected_by=day(p.expected_by),
        created_at=ts(p.created_at),
        succeeded_at=ts(p.succeeded_at),
        received_on=day(p.received_on),
        card_last4=p.card_last4,
        card_brand=p.card_brand,
        # Stripe's page is the client's to open; staff see the state and the date.
        verification_url=p.verification_url if for_client else "",
        microdeposits_arrive_on=day(p.microdeposits_arrive_on),
        microdeposit_type=p.microdeposit_type,
        verification_attempts=domain_microdeposits.attempts_allowed(p.microdeposit_type),
    )


def invoice_pb(view: InvoiceView, *, for_client: bool) -> pb.Invoice:
    i, ledger, cur = view.invoice, view.ledger, view.invoice.currency
    return pb.Invoice(
        id=str(i.id),
        number=i.number or "",
        project_id=str(i.project_id),
        customer_id=str(i.customer_id),
        status=enums.value(pb.InvoiceStatus, view.status.value),  # type: ignore[arg-type]
        overdue=view.overdue,
        lines=[
            pb.InvoiceLine(
                description=line.description,
                quantity=line.quantity,
                unit_price_minor=line.unit_price_minor,
                amount=money(line.quantity * line.unit_price_minor, cur),
            )
            for line in view.lines
        ],
        subtotal=money(i.subtotal_minor, cur),
        tax_rate_bps=i.tax_rate_bps,
        tax=money(i.tax_minor, cur),
        total=money(i.total_minor, cur),
        paid=money(ledger.paid_minor, cur),
        due=money(ledger.due_minor, cur),
        processing=money(ledger.processing_minor, cur),
        payable=money(ledger.payable_minor, cur),
        issued_on=day(i.issued_on),
        due_on=day(i.due_on),
        memo=i.memo,
        milestone=i.milestone or "",
        payments=[
            payment_pb(p, view.refunded.get(p.id, 0), for_client=for_client)
            for p in view.payments
            # A client sees money that moved or is moving, not abandoned attempts.
            if not for_client or p.status not in ("pending", "canceled")
        ],
        created_at=ts(i.created_at),
        project_name=i.project_name,
        project_reference=i.project_reference,
        bank_debits=[m.value for m in view.bank_debits],
        awaiting_verification=view.awaiting_verification,
        verifying=money(ledger.verifying_minor, cur),
    )


def plan_pb(view: PlanView, *, for_client: bool) -> pb.GetPaymentPlanResponse:
    currency = view.contract.currency if view.contract else ""
    out = pb.GetPaymentPlanResponse(
        milestones=[
            pb.Milestone(
                label=m.label,
                trigger=m.trigger.value,
                share_bps=m.share_bps,
                invoice_id=str(view.invoiced[m.trigger].id) if m.trigger in view.invoiced else "",
                invoiced=m.trigger in view.invoiced,
                amount=money(view.amounts.get(m.trigger, 0), currency) if currency else None,
            )
            for m in view.milestones
        ],
        overdue=[invoice_pb(v, for_client=for_client) for v in view.overdue],
    )
    if view.contract is not None:
        c = view.contract
        out.contract.CopyFrom(money(c.accepted_total_minor + c.variations_minor, c.currency))
    if view.next is not None and currency:
        out.next.CopyFrom(
            pb.Milestone(
                label=view.next.label,
                trigger=view.next.trigger.value,
                amount=money(view.next.total_minor, currency),
            )
        )
    return out


def settings_pb(s: PaymentSettings) -> pb.PaymentSettings:
    return pb.PaymentSettings(
        stripe_account_id=s.stripe_account_id,
        publishable_key=s.publishable_key,
        minimum_payment_minor=s.minimum_payment_minor,
        card_surcharge_bps=s.card_surcharge_bps,
        bank_discount_bps=s.bank_discount_bps,
        region=s.region,
        default_terms_days=s.default_terms_days,
        default_plan=[
            pb.Milestone(label=m["label"], trigger=m["trigger"], share_bps=m["share_bps"])
            for m in s.default_plan
        ],
        invoice_prefix=s.invoice_prefix,
        accounting_provider=s.accounting_provider,
        currency=s.currency,
        time_zone=s.time_zone,
        variation_rule=s.variation_rule,
        ach_debit_enabled=s.ach_debit_enabled,
        bacs_debit_enabled=s.bacs_debit_enabled,
    )


def preview_pb(view: VariationPreview) -> pb.PreviewVariationResponse:
    return pb.PreviewVariationResponse(
        variation_rule=view.rule.value,
        milestones=[
            pb.MilestoneEffect(
                label=m.label,
                trigger=m.trigger.value,
                before=money(m.before_minor, view.currency),
                after=money(m.after_minor, view.currency),
            )
            for m in view.milestones
        ],
        on_approval=money(view.now_minor, view.currency),
    )


def sync_pb(view: SyncView) -> pb.SyncRecord:
    r = view.record
    return pb.SyncRecord(
        id=str(r.id),
        kind=r.kind,
        record_id=r.record_id,
        provider=r.provider,
        state=r.state,
        external_id=r.external_id,
        attempts=r.attempts,
        last_error=r.last_error,
        next_attempt_at=ts(r.next_attempt_at),
        posted_at=ts(r.posted_at),
        label=view.label,
        created_at=ts(r.created_at),
    )


def connection_pb(view: ConnectionView) -> pb.AccountingConnection:
    c = view.connection
    if c is None:
        return pb.AccountingConnection(state="disconnected")
    return pb.AccountingConnection(
        provider=c.provider,
        state=c.state,
        organisation_id=c.organisation_id,
        organisation_name=c.organisation_name,
        connected_at=ts(c.connected_at),
        last_error=c.last_error,
    )
