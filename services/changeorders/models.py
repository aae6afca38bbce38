"""Tables changeorders owns. Every row carries tenant_id and is under RLS,
except `approval_deadline` (the expiry job reads it across tenants; it holds
ids and times only).

The contract a change order changes is ours to keep: projects' accepted
proposal, fetched once (it never changes), plus the orders approved here.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.chassis.db import NAMING


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _now() -> Any:
    return mapped_column(DateTime(timezone=True), server_default=func.now())


class ContractState(Base):
    """A project's contract: the accepted proposal as signed, and as it stands
    after the change orders approved since (`version` of them)."""

    __tablename__ = "contract"
    project_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    project_reference: Mapped[str] = mapped_column(String(20), default="")
    project_name: Mapped[str] = mapped_column(String(200), default="")
    proposal_id: Mapped[str] = mapped_column(String(100))
    currency: Mapped[str] = mapped_column(String(3))
    signed: Mapped[dict[str, Any]] = mapped_column(JSONB)  # domain_contract.Contract
    signed_total_minor: Mapped[int] = mapped_column(BigInteger)
    current: Mapped[dict[str, Any]] = mapped_column(JSONB)
    version: Mapped[int] = mapped_column(Integer, default=0)  # approved orders applied
    updated_at: Mapped[datetime] = _now()


class ChangeOrder(Base):
    __tablename__ = "change_order"
    __table_args__ = (
        UniqueConstraint("tenant_id", "project_id", "number"),
        UniqueConstraint("tenant_id", "request_id"),
    )
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    project_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    number: Mapped[int] = mapped_column(Integer)
    reference: Mapped[str] = mapped_column(String(20))  # "CO-003"
    request_id: Mapped[str] = mapped_column(String(100))
    request_sha256: Mapped[str] = mapped_column(String(64))
    current_revision: Mapped[int] = mapped_column(Integer, default=1)
    # The current revision's status, here too for lists.
    status: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = _now()


class Revision(Base):
    """One revision's content and life. Once sent, its content is frozen (a
    trigger refuses changes to it); only its status and times move."""

    __tablename__ = "change_order_revision"
    __table_args__ = (
        UniqueConstraint("change_order_id", "revision"),
        UniqueConstraint("tenant_id", "request_id"),
    )
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    change_order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("change_order.id"), index=True)
    revision: Mapped[int] = mapped_column(Integer)
    status: Mapped[int] = mapped_column(Integer)
    request_id: Mapped[str | None] = mapped_column(String(100))  # ReviseChangeOrder's
    title: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    changes: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)  # domain_contract.LineChange
    baseline: Mapped[dict[str, Any]] = mapped_column(JSONB)  # the contract before it
    baseline_version: Mapped[int] = mapped_column(Integer)
    stages: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)  # planned dates before
    schedule_days: Mapped[int] = mapped_column(Integer, default=0)
    shift_from: Mapped[str] = mapped_column(String(20), default="")
    approval_deadline: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    impact_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    tax_impact_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    content_json: Mapped[str | None] = mapped_column(Text)  # frozen when sent
    content_sha256: Mapped[str | None] = mapped_column(String(64))
    consent_text: Mapped[str] = mapped_column(Text, default="")
    # PushBackChangeOrder's request: a retry finds the push-back it made.
    decision_request_id: Mapped[str | None] = mapped_column(String(100))
    withdrawn_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = _now()
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    viewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Approval(Base):
    """The e-signature: one per order, never changed (a trigger refuses it)."""

    __tablename__ = "approval"
    __table_args__ = (UniqueConstraint("tenant_id", "request_id"),)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    change_order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("change_order.id"), unique=True)
    revision_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("change_order_revision.id"))
    revision: Mapped[int] = mapped_column(Integer)
    request_id: Mapped[str] = mapped_column(String(100))
    signer_name: Mapped[str] = mapped_column(String(200))
    signer_contact_id: Mapped[str] = mapped_column(String(100))
    signer_email: Mapped[str] = mapped_column(String(320), default="")
    client_name: Mapped[str] = mapped_column(String(200), default="")
    signer_session_id: Mapped[str] = mapped_column(String(100), default="")
    auth_method: Mapped[str] = mapped_column(String(40), default="")
    consent_text: Mapped[str] = mapped_column(Text)
    viewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    consented_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    signed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ip: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(500), default="")
    content_sha256: Mapped[str] = mapped_column(String(64))


class Comment(Base):
    """The thread: the client's push-backs (on the order or a line) and
    staff's answers, across revisions."""

    __tablename__ = "change_order_comment"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    change_order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("change_order.id"), index=True)
    revision: Mapped[int] = mapped_column(Integer)
    line_key: Mapped[str] = mapped_column(String(40), default="")
    line_description: Mapped[str] = mapped_column(String(300), default="")
    author_kind: Mapped[str] = mapped_column(String(10))
    author_id: Mapped[str] = mapped_column(String(100))
    author_name: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AuditEntry(Base):
    """The evidence pack's hash chain (domain_audit); triggers refuse UPDATE,
    DELETE and TRUNCATE."""

    __tablename__ = "audit_entry"
    __table_args__ = (UniqueConstraint("change_order_id", "seq"),)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    change_order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("change_order.id"))
    seq: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(30))
    actor: Mapped[str] = mapped_column(String(120))
    revision: Mapped[int] = mapped_column(Integer)
    facts: Mapped[dict[str, Any]] = mapped_column(JSONB)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    prev_sha256: Mapped[str] = mapped_column(String(64))
    sha256: Mapped[str] = mapped_column(String(64))


class ApprovalDeadline(Base):
    """What waits for a client's decision until when. Not under RLS: the
    expiry job finds what is due across tenants here, then expires each in a
    transaction scoped to its tenant."""

    __tablename__ = "approval_deadline"
    revision_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    change_order_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
