"""Tables projects owns. Every row carries tenant_id and is under RLS."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    func,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.chassis.db import NAMING


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Project(Base):
    __tablename__ = "project"
    __table_args__ = (
        UniqueConstraint("tenant_id", "reference"),
        UniqueConstraint("tenant_id", "request_id"),
    )
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    request_id: Mapped[str] = mapped_column(String(100))
    request_sha256: Mapped[str | None] = mapped_column(String(64))  # what the request was
    reference: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    # Identity owns customers; we keep the id only.
    customer_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    site_address: Mapped[str] = mapped_column(String(500), default="")
    stage: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    stage_changed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    # Every amount of the project (lines, proposals, budget) is in this currency.
    currency: Mapped[str] = mapped_column(String(3), server_default="USD", default="USD")
    # Identity owns staff users; we keep the id and how to show them.
    project_manager_id: Mapped[str] = mapped_column(String(100), server_default="", default="")
    project_manager_name: Mapped[str] = mapped_column(String(200), server_default="", default="")
    project_manager_email: Mapped[str] = mapped_column(String(320), server_default="", default="")
    # Contact ids of the customer who see the project; empty means all of them.
    visible_contact_ids: Mapped[list[str]] = mapped_column(
        ARRAY(String(100)), server_default="{}", default=list
    )
    service_contract: Mapped[bool] = mapped_column(Boolean, server_default="false", default=False)
    # Sum of `variation` rows, kept with them in one transaction: the budget reads one row.
    approved_variations_minor: Mapped[int] = mapped_column(
        BigInteger, server_default="0", default=0
    )
    # The change order that last moved the forecast handover, and from/to what:
    # the board says so while the forecast is still the one it made.
    handover_moved_by: Mapped[str] = mapped_column(String(50), server_default="", default="")
    handover_moved_from: Mapped[date | None] = mapped_column(Date)
    handover_moved_to: Mapped[date | None] = mapped_column(Date)


class StageChange(Base):
    """Full history of stage moves: who, when, from, to, why."""

    __tablename__ = "stage_change"
    __table_args__ = (UniqueConstraint("tenant_id", "request_id"),)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("project.id"), index=True)
    request_id: Mapped[str] = mapped_column(String(100))
    request_sha256: Mapped[str | None] = mapped_column(String(64))  # what the request was
    from_stage: Mapped[int] = mapped_column(Integer)
    to_stage: Mapped[int] = mapped_column(Integer)
    changed_by: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(Text, default="")
    client_note: Mapped[str] = mapped_column(Text, default="")
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ProjectStage(Base):
    """One row per project and stage (all five, made with the project): the plan,
    what actually happened, and the note the client reads."""

    __tablename__ = "project_stage"
    __table_args__ = (
        UniqueConstraint("project_id", "stage"),
        CheckConstraint("stage BETWEEN 1 AND 5", name="stage"),
        CheckConstraint("planned_finish >= planned_start", name="planned_order"),
        CheckConstraint("actual_finish >= actual_start", name="actual_order"),
    )
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("project.id"))
    stage: Mapped[int] = mapped_column(Integer)
    planned_start: Mapped[date | None] = mapped_column(Date)
    planned_finish: Mapped[date | None] = mapped_column(Date)
    actual_start: Mapped[date | None] = mapped_column(Date)
    actual_finish: Mapped[date | None] = mapped_column(Date)
    client_note: Mapped[str] = mapped_column(Text, server_default="", default="")
    note_updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Room(Base):
    __tablename__ = "room"
    __table_args__ = (UniqueConstraint("tenant_id", "request_id"),)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("project.id"), index=True)
    request_id: Mapped[str] = mapped_column(String(100))
    request_sha256: Mapped[str | None] = mapped_column(String(64))  # what the request was
    name: Mapped[str] = mapped_column(String(200))
    client_visible: Mapped[bool] = mapped_column(Boolean)
    position: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ProductLine(Base):
    __tablename__ = "product_line"
    __table_args__ = (
        UniqueConstraint("tenant_id", "request_id"),
        CheckConstraint("quantity BETWEEN 1 AND 10000", name="quantity"),
        CheckConstraint("unit_price_minor BETWEEN 0 AND 10000000000", name="unit_price"),
    )
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("project.id"), index=True)
    room_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("room.id", ondelete="CASCADE"), index=True
    )
    request_id: Mapped[str] = mapped_column(String(100))
    request_sha256: Mapped[str | None] = mapped_column(String(64))  # what the request was
    manufacturer: Mapped[str] = mapped_column(String(200))
    model: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price_minor: Mapped[int] = mapped_column(BigInteger)
    client_visible: Mapped[bool] = mapped_column(Boolean)
    position: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Proposal(Base):
    """A version of the project's offer. A draft is edited; sending freezes it
    (content_json is the exact canonical text the client signs, content_sha256
    its hash); the accepted one is the contract baseline. A database trigger
    refuses changes to frozen content (migration 0003)."""

    __tablename__ = "proposal"
    __table_args__ = (
        UniqueConstraint("project_id", "version"),
        UniqueConstraint("tenant_id", "request_id"),
        CheckConstraint("status BETWEEN 1 AND 4", name="status"),
        CheckConstraint("tax_rate_bps BETWEEN 0 AND 5000", name="tax_rate"),
        # One baseline per project, and at most one version in front of the client.
        Index(
            "uq_proposal_project_id_accepted",
            "project_id",
            unique=True,
            postgresql_where=text("status = 3"),
        ),
        Index(
            "uq_proposal_project_id_sent",
            "project_id",
            unique=True,
            postgresql_where=text("status = 2"),
        ),
    )
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("project.id"), index=True)
    request_id: Mapped[str] = mapped_column(String(100))
    request_sha256: Mapped[str | None] = mapped_column(String(64))  # what the request was
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    introduction: Mapped[str] = mapped_column(Text)
    currency: Mapped[str] = mapped_column(String(3))
    labour_minor: Mapped[int] = mapped_column(BigInteger)
    discount_minor: Mapped[int] = mapped_column(BigInteger)
    tax_rate_bps: Mapped[int] = mapped_column(Integer)
    # Derived from the snapshot by the domain, stored so lists and budgets read one row.
    subtotal_minor: Mapped[int] = mapped_column(BigInteger)
    tax_minor: Mapped[int] = mapped_column(BigInteger)
    total_minor: Mapped[int] = mapped_column(BigInteger)
    consent_text: Mapped[str] = mapped_column(Text, server_default="", default="")
    content_json: Mapped[str | None] = mapped_column(Text)
    content_sha256: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sent_by: Mapped[str | None] = mapped_column(String(100))
    superseded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ProposalRoom(Base):
    """A room as it was when the proposal was drafted (or refreshed)."""

    __tablename__ = "proposal_room"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    proposal_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("proposal.id", ondelete="CASCADE"), index=True
    )
    source_room_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)  # the room may be gone since
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    client_visible: Mapped[bool] = mapped_column(Boolean)


class ProposalLine(Base):
    """A product line as it was when the proposal was drafted (or refreshed)."""

    __tablename__ = "proposal_line"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    proposal_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("proposal.id", ondelete="CASCADE"), index=True
    )
    proposal_room_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("proposal_room.id", ondelete="CASCADE"), index=True
    )
    source_line_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    position: Mapped[int] = mapped_column(Integer)
    manufacturer: Mapped[str] = mapped_column(String(200))
    model: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price_minor: Mapped[int] = mapped_column(BigInteger)
    client_visible: Mapped[bool] = mapped_column(Boolean)


class ProposalSignature(Base):
    """The evidence of an acceptance: who typed which name, having been shown
    which consent text, when, from where, over which exact content."""

    __tablename__ = "proposal_signature"
    __table_args__ = (UniqueConstraint("tenant_id", "request_id"),)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    proposal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("proposal.id"), unique=True)
    request_id: Mapped[str] = mapped_column(String(100))
    signer_name: Mapped[str] = mapped_column(String(200))
    signer_contact_id: Mapped[str] = mapped_column(String(100))
    signer_email: Mapped[str] = mapped_column(String(320), server_default="", default="")
    # The customer they signed for, named as the signer's session named it.
    client_name: Mapped[str] = mapped_column(String(200), server_default="", default="")
    # How they authenticated: the portal session the signing call came from
    # (identity keeps how that session was opened). Kept here, not printed.
    signer_session_id: Mapped[str] = mapped_column(String(100), server_default="", default="")
    consent_text: Mapped[str] = mapped_column(Text)
    signed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ip: Mapped[str] = mapped_column(String(64))
    user_agent: Mapped[str] = mapped_column(String(500))
    content_sha256: Mapped[str] = mapped_column(String(64))


class WaitingItem(Base):
    """Something the client is expected to do, shown on the status board until
    resolved. `key` identifies it within its kind (a proposal id, a change order
    id), so whoever opens an item (our use cases, or a handler of another
    service's event) can resolve the same one later, and a redelivery is a no-op."""

    __tablename__ = "waiting_item"
    __table_args__ = (
        UniqueConstraint("tenant_id", "kind", "key"),
        Index(
            "ix_waiting_item_project_id_open",
            "project_id",
            postgresql_where=text("resolved_at IS NULL"),
        ),
    )
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("project.id"))
    kind: Mapped[str] = mapped_column(String(50))
    key: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(200))
    link: Mapped[str] = mapped_column(String(500))
    since: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Where the newest report this item reflects stands in its producer's
    # lifecycle (change orders: `domain_changeorders.report_order`), so late
    # and repeated events change nothing; null for items that need none.
    report_order: Mapped[int | None] = mapped_column(BigInteger)


class Variation(Base):
    """An approved change to the contract value (a change order, from its
    approval event). None are recorded yet: the table is ready for them, and
    project.approved_variations_minor is their sum."""

    __tablename__ = "variation"
    __table_args__ = (UniqueConstraint("tenant_id", "source", "source_id"),)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("project.id"), index=True)
    source: Mapped[str] = mapped_column(String(50))  # "change_order"
    source_id: Mapped[str] = mapped_column(String(100))
    reference: Mapped[str] = mapped_column(String(50), server_default="", default="")
    amount_minor: Mapped[int] = mapped_column(BigInteger)  # may be negative (a credit)
    currency: Mapped[str] = mapped_column(String(3))
    approved_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class InvoiceStanding(Base):
    """Our copy of one invoice as payments' newest event said it stood
    (`payments.invoice.*`, `payments.payment.*`): its waiting item and the
    board's "on its way" line are drawn from it. `as_of` is that event's time;
    an older report changes nothing."""

    __tablename__ = "invoice_standing"
    __table_args__ = (Index("ix_invoice_standing_project_id", "project_id"),)
    invoice_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("project.id"))
    number: Mapped[str] = mapped_column(String(50))
    status: Mapped[str] = mapped_column(String(20))
    currency: Mapped[str] = mapped_column(String(3))
    total_minor: Mapped[int] = mapped_column(BigInteger)
    due_minor: Mapped[int] = mapped_column(BigInteger)
    processing_minor: Mapped[int] = mapped_column(BigInteger)
    due_on: Mapped[date | None] = mapped_column(Date)
    expected_by: Mapped[date | None] = mapped_column(Date)
    milestone_label: Mapped[str] = mapped_column(String(80))
    as_of: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # ACH debits held for the client's micro-deposit verification (migration 0012).
    verifying_minor: Mapped[int] = mapped_column(BigInteger, server_default="0", default=0)
    awaiting_verification: Mapped[bool] = mapped_column(
        Boolean, server_default="false", default=False
    )


class NextPayment(Base):
    """The project's next payment as payments' newest
    `payments.payment_plan.changed` said it (`label` empty: nothing left)."""

    __tablename__ = "next_payment"
    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("project.id"), primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    label: Mapped[str] = mapped_column(String(80))
    trigger: Mapped[str] = mapped_column(String(20))
    currency: Mapped[str] = mapped_column(String(3))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    invoice_id: Mapped[str] = mapped_column(String(40))
    invoice_number: Mapped[str] = mapped_column(String(50))
    due_on: Mapped[date | None] = mapped_column(Date)
    as_of: Mapped[datetime] = mapped_column(DateTime(timezone=True))
