"""Tables payments owns. Every row carries tenant_id and is under RLS.

What is paid and due is never a column: it is summed from `payment` and
`refund` rows in the query that reads the invoice (domain_invoices.Ledger).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    false,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.chassis.db import NAMING


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _now() -> Any:
    return mapped_column(DateTime(timezone=True), server_default=func.now())


class PaymentSettings(Base):
    """One row per tenant: the Stripe connection and the pay-now rules."""

    __tablename__ = "payment_settings"
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    stripe_account_id: Mapped[str] = mapped_column(String(100), default="", server_default="")
    publishable_key: Mapped[str] = mapped_column(String(200), default="", server_default="")
    minimum_payment_minor: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    card_surcharge_bps: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    bank_discount_bps: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    region: Mapped[str] = mapped_column(String(10), default="US", server_default="US")
    default_terms_days: Mapped[int] = mapped_column(Integer, default=14, server_default="14")
    default_plan: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    invoice_prefix: Mapped[str] = mapped_column(String(10), default="INV", server_default="INV")
    # The last number handed out; taken under the row lock, so gap-free per tenant.
    last_invoice_number: Mapped[int] = mapped_column(Integer, default=1000, server_default="1000")
    currency: Mapped[str] = mapped_column(String(3), default="USD", server_default="USD")
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    accounting_provider: Mapped[str] = mapped_column(String(20), default="", server_default="")
    # The letterhead (a serialized portal.common.v1.Letterhead, logo included) of
    # the newest accepted proposal: filed PDFs are drawn after an event, with no
    # gateway call to bring one. Deferred: the row is read on every call.
    letterhead: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    # Where an approved change order is billed (domain_variations.VariationRule).
    variation_rule: Mapped[str] = mapped_column(
        String(20), default="spread", server_default="spread"
    )
    # Bank debits offered on the pay page (ACH for USD invoices, Bacs for GBP).
    ach_debit_enabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    bacs_debit_enabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    updated_at: Mapped[datetime] = _now()


class StripeAccount(Base):
    """Which tenant a connected account belongs to. Not under RLS: a webhook
    names only the account, and this is how it finds its tenant (the
    signature was checked first; nothing here is secret)."""

    __tablename__ = "stripe_account"
    account_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)


class PaymentMethodDomain(Base):
    """A portal host registered (or to register) as a payment-method domain on
    the tenant's Stripe account: Apple Pay and Google Pay in the embedded form
    need it. Not under RLS, like `stripe_account`: the registering job finds
    its work across tenants here (a host name and Stripe's id; nothing secret).
    `account_id` is the account it was registered on: connecting another
    account registers it again there."""

    __tablename__ = "payment_method_domain"
    domain: Mapped[str] = mapped_column(String(253), primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    state: Mapped[str] = mapped_column(String(20))  # pending, registered, failed
    account_id: Mapped[str] = mapped_column(String(100), default="", server_default="")
    stripe_id: Mapped[str] = mapped_column(String(100), default="", server_default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_error: Mapped[str] = mapped_column(Text, default="", server_default="")
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    registered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Contract(Base):
    """Payments' copy of what projects said: the accepted proposal and the stage."""

    __tablename__ = "contract"
    project_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    project_name: Mapped[str] = mapped_column(String(200), default="")
    project_reference: Mapped[str] = mapped_column(String(20), default="")
    client_name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    # The site as projects had it at acceptance (printed on invoices and receipts).
    site_address: Mapped[str] = mapped_column(String(500), default="", server_default="")
    currency: Mapped[str] = mapped_column(String(3))
    accepted_total_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    accepted_tax_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    variations_minor: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    proposal_id: Mapped[str] = mapped_column(String(100), default="", server_default="")
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    milestones: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    # The furthest stage projects told us about (for plans edited later).
    stage: Mapped[str] = mapped_column(String(20), default="", server_default="")
    # {trigger: [total, tax]}: what approved variations added to each
    # milestone (the sum of variation.added), read with the plan.
    variation_added: Mapped[dict[str, Any]] = mapped_column(
        JSONB, default=dict, server_default=text("'{}'::jsonb")
    )


class Variation(Base):
    """An approved change order, once: where it was billed (what it added to
    which milestone, or the invoice / credit note it was issued as)."""

    __tablename__ = "variation"
    __table_args__ = (UniqueConstraint("tenant_id", "change_order_id"),)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    project_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    change_order_id: Mapped[str] = mapped_column(String(100))
    reference: Mapped[str] = mapped_column(String(30))
    rule: Mapped[str] = mapped_column(String(20))
    currency: Mapped[str] = mapped_column(String(3))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    tax_minor: Mapped[int] = mapped_column(BigInteger)
    added: Mapped[dict[str, Any]] = mapped_column(JSONB)
    invoice_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("invoice.id"))
    approved_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = _now()


class Invoice(Base):
    __tablename__ = "invoice"
    __table_args__ = (
        UniqueConstraint("tenant_id", "number"),
        UniqueConstraint("tenant_id", "request_id"),
        # A milestone is invoiced once per project, whatever the events do.
        Index(
            "uq_invoice_milestone",
            "project_id",
            "milestone",
            unique=True,
            postgresql_where=text("milestone IS NOT NULL AND voided_at IS NULL"),
        ),
    )
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    request_id: Mapped[str] = mapped_column(String(100))
    project_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    project_name: Mapped[str] = mapped_column(String(200), default="")
    project_reference: Mapped[str] = mapped_column(String(20), default="")
    number: Mapped[str | None] = mapped_column(String(30))
    currency: Mapped[str] = mapped_column(String(3))
    tax_rate_bps: Mapped[int] = mapped_column(Integer, default=0)
    subtotal_minor: Mapped[int] = mapped_column(BigInteger)
    tax_minor: Mapped[int] = mapped_column(BigInteger)
    total_minor: Mapped[int] = mapped_column(BigInteger)
    terms_days: Mapped[int] = mapped_column(Integer, default=14)
    memo: Mapped[str] = mapped_column(Text, default="")
    milestone: Mapped[str | None] = mapped_column(String(20))
    issued_on: Mapped[date | None] = mapped_column(Date)
    due_on: Mapped[date | None] = mapped_column(Date)
    issued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    voided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    void_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = _now()


class InvoiceLine(Base):
    __tablename__ = "invoice_line"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    invoice_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("invoice.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(String(300))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price_minor: Mapped[int] = mapped_column(BigInteger)


class Payment(Base):
    __tablename__ = "payment"
    __table_args__ = (
        UniqueConstraint("invoice_id", "attempt_id"),
        UniqueConstraint("tenant_id", "request_id"),
        Index(
            "uq_payment_intent",
            "stripe_payment_intent_id",
            unique=True,
            postgresql_where=text("stripe_payment_intent_id <> ''"),
        ),
    )
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    invoice_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("invoice.id"), index=True)
    attempt_id: Mapped[str | None] = mapped_column(String(100))  # pay-now
    request_id: Mapped[str | None] = mapped_column(String(100))  # offline, by staff
    status: Mapped[str] = mapped_column(String(30))
    # When the state we hold happened (Stripe's event time): older news loses.
    status_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    method: Mapped[str] = mapped_column(String(30))
    currency: Mapped[str] = mapped_column(String(3))
    applied_minor: Mapped[int] = mapped_column(BigInteger)
    surcharge_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    discount_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    stripe_payment_intent_id: Mapped[str] = mapped_column(String(100), default="")
    client_secret: Mapped[str] = mapped_column(String(200), default="")
    failure_message: Mapped[str] = mapped_column(Text, default="")
    expected_by: Mapped[date | None] = mapped_column(Date)
    # ACH awaiting micro-deposit verification: Stripe's hosted page, the
    # tenant's date the deposit should land by, descriptor_code or amounts.
    verification_url: Mapped[str] = mapped_column(String(500), default="")
    microdeposits_arrive_on: Mapped[date | None] = mapped_column(Date)
    microdeposit_type: Mapped[str] = mapped_column(String(20), default="")
    reference: Mapped[str] = mapped_column(String(120), default="")
    received_on: Mapped[date | None] = mapped_column(Date)
    card_brand: Mapped[str] = mapped_column(String(20), default="")
    card_last4: Mapped[str] = mapped_column(String(4), default="")
    created_by: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = _now()
    succeeded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Refund(Base):
    __tablename__ = "refund"
    __table_args__ = (UniqueConstraint("tenant_id", "request_id"),)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    payment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payment.id"), index=True)
    request_id: Mapped[str] = mapped_column(String(100))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(Text, default="")
    stripe_refund_id: Mapped[str] = mapped_column(String(100), default="")
    created_by: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = _now()


class StripeEvent(Base):
    """Every webhook once: the id is Stripe's, so a redelivery is a no-op."""

    __tablename__ = "stripe_event"
    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    # Not indexed: every read is by id, and an index here was what the planner
    # ANDed the RLS policy's tenant qual into (migration 0008).
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    type: Mapped[str] = mapped_column(String(100))
    account: Mapped[str] = mapped_column(String(100), default="")
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    received_at: Mapped[datetime] = _now()
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SyncRecord(Base):
    """One record's journey to the integrator's accounting system."""

    __tablename__ = "sync_record"
    __table_args__ = (
        UniqueConstraint("tenant_id", "provider", "kind", "record_id"),
        # The sync job's question: what is due for this tenant's provider.
        Index("ix_sync_record_due", "tenant_id", "provider", "state", "next_attempt_at"),
    )
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    provider: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(20))  # customer, invoice, payment
    record_id: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(20), default="pending")
    external_id: Mapped[str] = mapped_column(String(100), default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    next_attempt_at: Mapped[datetime] = _now()
    posted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = _now()


class AccountingConnection(Base):
    """The tenant's link to its books: one provider at a time. The OAuth2
    tokens are sealed (chassis sealing, payments' master key) with the tenant
    and provider as associated data; an authorize attempt in flight is kept
    as the SHA-256 of its state, spent by the first completion."""

    __tablename__ = "accounting_connection"
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    provider: Mapped[str] = mapped_column(String(20), default="", server_default="")
    state: Mapped[str] = mapped_column(String(20), default="disconnected")
    organisation_id: Mapped[str] = mapped_column(String(100), default="", server_default="")
    organisation_name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    sealed_tokens: Mapped[bytes | None] = mapped_column(LargeBinary)
    access_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    connected_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str] = mapped_column(Text, default="", server_default="")
    oauth_provider: Mapped[str] = mapped_column(String(20), default="", server_default="")
    oauth_state_digest: Mapped[str] = mapped_column(String(64), default="", server_default="")
    oauth_redirect_uri: Mapped[str] = mapped_column(String(500), default="", server_default="")
    oauth_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = _now()


class AccountingTenant(Base):
    """Which tenants have a live connection, for the sync job. Not under RLS:
    the job finds its tenants here, then works inside each one; nothing here
    is secret."""

    __tablename__ = "accounting_tenant"
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    provider: Mapped[str] = mapped_column(String(20))
