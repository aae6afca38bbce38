"""Tables notifications owns."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
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
    func,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from services.chassis.db import NAMING


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Email(Base):
    """An email to send, written by a handler in the same transaction that
    records the event as processed; the mailer sends it after commit.

    Like the outbox it is read across tenants by the mailer, so it has no RLS;
    every staff-facing query filters by tenant_id in code.

    Mail to one recipient with one `ordering_key` (a project) goes out in the
    order of `event_at`, the time of the event that caused it (service/mailer.py).
    """

    __tablename__ = "email"
    __table_args__ = (
        # One email per event and recipient, whatever the redeliveries.
        UniqueConstraint("event_id", "to_address"),
        # The mailer's "is anything earlier still waiting?" question.
        Index(
            "ix_email_pending_in_order",
            "to_address",
            "ordering_key",
            "event_at",
            postgresql_where=text("status = 'pending'"),
        ),
        # The mailer's "when is the next one due?": rows scheduled far ahead
        # (reminders) are not read (service/mailer.py next_due).
        Index(
            "ix_email_pending_next_attempt",
            "next_attempt_at",
            postgresql_where=text("status = 'pending'"),
        ),
    )
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    event_type: Mapped[str] = mapped_column(String(200))
    from_name: Mapped[str] = mapped_column(String(200))
    to_address: Mapped[str] = mapped_column(String(254))
    to_name: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text)
    # When the event happened (its envelope's occurred_at): the order mail keeps.
    event_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    ordering_key: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    # "" until a send fails; then "transient" or "permanent" (domain_delivery.FailureKind).
    failure_kind: Mapped[str] = mapped_column(String(20), default="")
    next_attempt_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Loaded with the email (the mailer's query), in order: what it carries.
    attachments: Mapped[list[EmailAttachment]] = relationship(
        lazy="selectin", order_by="EmailAttachment.position", passive_deletes=True
    )


class EmailAttachment(Base):
    """A file an email carries (a visit's calendar invitation), written with
    its email in the handler's transaction and sent as a MIME part."""

    __tablename__ = "email_attachment"
    email_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("email.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(200))
    content: Mapped[bytes] = mapped_column(LargeBinary)


class ShareNotice(Base):
    """A document a client can now see, waiting to be told in a digest: ten
    documents ticked at once make one email, not ten."""

    __tablename__ = "share_notice"
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    project_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    project_name: Mapped[str] = mapped_column(String(200))
    document_title: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    digest_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
