"""The JSON shapes of invoices, payments, the payment plan and the payment
settings, and their translation from payments' messages. No decisions here:
payments decided what the caller may see."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from portal.payments.v1 import payments_pb2 as pb
from pydantic import BaseModel, Field

from gateway.api.fields import Line, Text
from gateway.api.translate import MoneyOut, calendar_date, money_out, timestamp
from services.chassis import enums

InvoiceStatus = Literal[
    "draft", "open", "processing", "partially_paid", "paid", "void", "uncollectible"
]
PaymentStatus = Literal[
    "pending", "awaiting_verification", "processing", "succeeded", "failed", "canceled"
]
Trigger = Literal["acceptance", "procurement", "install", "commissioning", "handover"]
# Where an approved change order is billed (payments' domain_variations).
VariationRule = Literal["invoice", "next_milestone", "spread"]
OfflineMethod = Literal["bank_transfer", "cheque", "cash", "other"]
PayMethod = Literal["card", "us_bank_account", "bacs_debit", "sepa_debit"]
# Bounded where the services bound them, so a huge number is a clear 422 here.
MinorUnits = Field(ge=1, le=10**12, description="Integer minor units (cents, pence).")


class InvoiceLineIn(BaseModel):
    description: Line = Field(min_length=1, max_length=300)
    quantity: int = Field(ge=1, le=10_000)
    unit_price_minor: int = Field(ge=-(10**11), le=10**11)


class InvoiceLine(InvoiceLineIn):
    amount: MoneyOut | None


class Payment(BaseModel):
    id: UUID
    status: PaymentStatus
    method: str
    applied: MoneyOut | None = Field(description="What the invoice is credited.")
    surcharge: MoneyOut | None
    discount: MoneyOut | None
    charged: MoneyOut | None = Field(description="What the client paid.")
    refunded: MoneyOut | None
    reference: str
    failure_message: str = Field(description="Why it failed, in plain words.")
    expected_by: date | None = Field(
        description="A bank debit in processing: when it should clear."
    )
    received_on: date | None
    card_brand: str
    card_last4: str = Field(description="A card's or a bank account's last four digits.")
    created_at: datetime | None
    succeeded_at: datetime | None
    verification_url: str = Field(
        default="",
        description="An ACH debit awaiting verification: Stripe's page where the client "
        "enters the micro-deposit (clients only).",
    )
    microdeposits_arrive_on: date | None = Field(
        default=None, description="When Stripe's micro-deposit should arrive."
    )
    microdeposit_type: str = Field(default="", description="descriptor_code or amounts.")
    verification_attempts: int = Field(
        default=0,
        description="How many tries Stripe gives to enter what the deposit shows "
        "(3 for two amounts, 10 for a code; 0: not said).",
    )


class Invoice(BaseModel):
    id: UUID
    number: str = Field(description="INV-1247; empty while a draft.")
    project_id: UUID
    project_name: str
    project_reference: str
    customer_id: UUID
    status: InvoiceStatus
    overdue: bool = Field(description="Past due with money neither paid nor on its way.")
    lines: list[InvoiceLine]
    subtotal: MoneyOut | None
    tax_rate_bps: int
    tax: MoneyOut | None
    total: MoneyOut | None
    paid: MoneyOut | None
    due: MoneyOut | None
    processing: MoneyOut | None
    payable: MoneyOut | None = Field(description="What a new payment may still cover.")
    issued_on: date | None
    due_on: date | None
    memo: str
    milestone: str
    payments: list[Payment]
    bank_debits: list[Literal["us_bank_account", "bacs_debit"]] = Field(
        default_factory=list,
        description="The bank debits this invoice may be paid by, as payments decides them: "
        "ACH on US dollar invoices, Bacs on sterling ones, each where the integrator turned it "
        "on.",
    )
    awaiting_verification: bool = Field(
        default=False,
        description="An ACH debit on this invoice waits for the client to verify their bank "
        "account (Stripe's micro-deposits): the client's next step is to verify, not to pay. "
        "Payments decides it.",
    )
    verifying: MoneyOut | None = Field(
        default=None, description="Held for debits awaiting verification: not paid, not payable."
    )


class InvoicePage(BaseModel):
    invoices: list[Invoice]
    next_page_token: str


class NewInvoice(BaseModel):
    lines: list[InvoiceLineIn] = Field(min_length=1, max_length=200)
    tax_rate_bps: int = Field(0, ge=0, le=5_000)
    terms_days: int | None = Field(None, ge=0, le=365)
    memo: Text = Field("", max_length=2000)


class VoidRequest(BaseModel):
    reason: Text = Field("", max_length=500)


class Milestone(BaseModel):
    label: Line = Field(min_length=1, max_length=80)
    trigger: Trigger
    share_bps: int = Field(ge=1, le=10_000, description="Share of the contract, basis points.")


class PlannedMilestone(Milestone):
    invoiced: bool
    invoice_id: UUID | None
    amount: MoneyOut | None = Field(description="What it invoiced, or would invoice now.")


class NextPayment(BaseModel):
    label: str
    trigger: Trigger
    amount: MoneyOut | None


class PaymentPlan(BaseModel):
    milestones: list[PlannedMilestone]
    contract: MoneyOut | None
    next: NextPayment | None
    overdue: list[Invoice]


class PlanChange(BaseModel):
    milestones: list[Milestone] = Field(min_length=1, max_length=8)


class Amount(BaseModel):
    amount_minor: int = MinorUnits
    currency: Line = Field(min_length=3, max_length=3, pattern="^[A-Za-z]{3}$")


class QuoteRequest(Amount):
    method: PayMethod = "card"
    card_funding: Literal["credit", "debit", "prepaid", "unknown", ""] = ""


class Quote(BaseModel):
    applied: MoneyOut | None
    surcharge: MoneyOut | None
    discount: MoneyOut | None
    charged: MoneyOut | None


class PayRequest(Amount):
    payment_method_id: Line = Field(
        min_length=3,
        max_length=100,
        pattern="^(pm|card|src)_[A-Za-z0-9]+$",
        description="From Stripe.js, created with the integrator's publishable key.",
    )


class StartedPayment(BaseModel):
    payment: Payment
    client_secret: str = Field(description="For Stripe.js to finish a bank's confirmation step.")
    next_action: str = Field(
        description='"" (done, or processing); "requires_action" (Stripe.js finishes the '
        'bank\'s step with the client secret); "verify_with_microdeposits" (an ACH account '
        "typed by hand: the payment's `verification_url` is Stripe's page to verify it)."
    )


class OfflinePaymentIn(Amount):
    method: OfflineMethod
    reference: Line = Field("", max_length=120)
    received_on: date | None = None


class RefundIn(Amount):
    reason: Text = Field("", max_length=500)


class PaymentSettings(BaseModel):
    stripe_account_id: str
    publishable_key: str
    minimum_payment_minor: int
    card_surcharge_bps: int
    bank_discount_bps: int
    region: str
    default_terms_days: int
    default_plan: list[Milestone]
    invoice_prefix: str
    currency: str
    time_zone: str
    variation_rule: VariationRule
    ach_debit_enabled: bool = Field(False, description="ACH Direct Debit offered on USD invoices.")
    bacs_debit_enabled: bool = Field(
        False, description="Bacs Direct Debit offered on GBP invoices."
    )


class PaymentSettingsChange(BaseModel):
    stripe_account_id: Line | None = Field(None, max_length=100)
    publishable_key: Line | None = Field(None, max_length=200)
    minimum_payment_minor: int | None = Field(None, ge=0, le=10**10)
    card_surcharge_bps: int | None = Field(None, ge=0, le=10_000)
    bank_discount_bps: int | None = Field(None, ge=0, le=10_000)
    region: Line | None = Field(None, max_length=10)
    default_terms_days: int | None = Field(None, ge=0, le=365)
    default_plan: list[Milestone] | None = Field(None, min_length=1, max_length=8)
    invoice_prefix: Line | None = Field(None, max_length=10)
    currency: Line | None = Field(None, max_length=3)
    time_zone: Line | None = Field(None, max_length=64)
    variation_rule: VariationRule | None = Field(
        None,
        description="A change order's price: its own invoice on approval, added to the next "
        "milestone, or spread over the milestones still to come.",
    )
    ach_debit_enabled: bool | None = None
    bacs_debit_enabled: bool | None = None


# -- from payments' messages -----------------------------------------------------------


def payment_out(p: pb.Payment) -> Payment:
    return Payment(
        id=UUID(p.id),
        status=enums.short_name(pb.PaymentStatus, p.status),  # type: ignore[arg-type]
        method=p.method,
        applied=money_out(p, "applied"),
        surcharge=money_out(p, "surcharge"),
        discount=money_out(p, "discount"),
        charged=money_out(p, "charged"),
        refunded=money_out(p, "refunded"),
        reference=p.reference,
        failure_message=p.failure_message,
        expected_by=calendar_date(p.expected_by),
        received_on=calendar_date(p.received_on),
        card_brand=p.card_brand,
        card_last4=p.card_last4,
        created_at=timestamp(p, "created_at"),
        succeeded_at=timestamp(p, "succeeded_at"),
        verification_url=p.verification_url,
        microdeposits_arrive_on=calendar_date(p.microdeposits_arrive_on),
        microdeposit_type=p.microdeposit_type,
        verification_attempts=p.verification_attempts,
    )


def invoice_out(i: pb.Invoice) -> Invoice:
    return Invoice(
        id=UUID(i.id),
        number=i.number,
        project_id=UUID(i.project_id),
        project_name=i.project_name,
        project_reference=i.project_reference,
        customer_id=UUID(i.customer_id),
        status=enums.short_name(pb.InvoiceStatus, i.status),  # type: ignore[arg-type]
        overdue=i.overdue,
        lines=[
            InvoiceLine(
                description=x.description,
                quantity=x.quantity,
                unit_price_minor=x.unit_price_minor,
                amount=money_out(x, "amount"),
            )
            for x in i.lines
        ],
        subtotal=money_out(i, "subtotal"),
        tax_rate_bps=i.tax_rate_bps,
        tax=money_out(i, "tax"),
        total=money_out(i, "total"),
        paid=money_out(i, "paid"),
        due=money_out(i, "due"),
        processing=money_out(i, "processing"),
        payable=money_out(i, "payable"),
        issued_on=calendar_date(i.issued_on),
        due_on=calendar_date(i.due_on),
        memo=i.memo,
        milestone=i.milestone,
        payments=[payment_out(p) for p in i.payments],
        bank_debits=list(i.bank_debits),  # type: ignore[arg-type]
        awaiting_verification=i.awaiting_verification,
        verifying=money_out(i, "verifying"),
    )


def plan_out(answer: pb.GetPaymentPlanResponse) -> PaymentPlan:
    return PaymentPlan(
        milestones=[
            PlannedMilestone(
                label=m.label,
                trigger=m.trigger,  # type: ignore[arg-type]
                share_bps=m.share_bps,
                invoiced=m.invoiced,
                invoice_id=UUID(m.invoice_id) if m.invoice_id else None,
                amount=money_out(m, "amount"),
            )
            for m in answer.milestones
        ],
        contract=money_out(answer, "contract"),
        next=(
            NextPayment(
                label=answer.next.label,
                trigger=answer.next.trigger,  # type: ignore[arg-type]
                amount=money_out(answer.next, "amount"),
            )
            if answer.HasField("next")
            else None
        ),
        overdue=[invoice_out(i) for i in answer.overdue],
    )


def settings_out(s: pb.PaymentSettings) -> PaymentSettings:
    return PaymentSettings(
        stripe_account_id=s.stripe_account_id,
        publishable_key=s.publishable_key,
        minimum_payment_minor=s.minimum_payment_minor,
        card_surcharge_bps=s.card_surcharge_bps,
        bank_discount_bps=s.bank_discount_bps,
        region=s.region,
        default_terms_days=s.default_terms_days,
        default_plan=[
            Milestone(label=m.label, trigger=m.trigger, share_bps=m.share_bps)  # type: ignore[arg-type]
            for m in s.default_plan
        ],
        invoice_prefix=s.invoice_prefix,
        currency=s.currency,
        time_zone=s.time_zone,
        variation_rule=s.variation_rule or "spread",  # type: ignore[arg-type]
        ach_debit_enabled=s.ach_debit_enabled,
        bacs_debit_enabled=s.bacs_debit_enabled,
    )
