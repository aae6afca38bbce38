"""Tables identity owns. Every tenant-owned row carries tenant_id (and RLS)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    ARRAY,
    BigInteger,
    CheckConstraint,
    Computed,
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


class Tenant(Base):
    # The tenant registry itself: no RLS (the gateway resolves hosts before a tenant is known).
    __tablename__ = "tenant"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    logo_url: Mapped[str] = mapped_column(String(500), default="")
    splash_image_url: Mapped[str] = mapped_column(String(500), default="")
    headline: Mapped[str] = mapped_column(String(300), default="")
    accent_color: Mapped[str] = mapped_column(String(7), default="#1f6feb")
    support_email: Mapped[str] = mapped_column(String(254), default="")
    support_phone: Mapped[str] = mapped_column(String(50), default="")
    # Printed on every PDF's letterhead: lines joined by "\n".
    postal_address: Mapped[str] = mapped_column(String(500), server_default="", default="")
    website: Mapped[str] = mapped_column(String(500), server_default="", default="")
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    region: Mapped[str] = mapped_column(String(20), default="")
    # How old a client's proof of who they are may be when they sign.
    signing_reauth_minutes: Mapped[int] = mapped_column(Integer, default=30)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # Set when the platform purges an integrator: the slug answers 404 and is
    # never given to anyone else.
    purged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class StaffUser(Base):
    __tablename__ = "staff_user"
    __table_args__ = (
        UniqueConstraint("tenant_id", "email"),
        UniqueConstraint("tenant_id", "request_id"),
        Index("ix_staff_user_tenant_id_email_key", "tenant_id", "email_key"),
    )
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenant.id"), index=True)
    request_id: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(254))
    # lower(email), kept by PostgreSQL: what an address is looked up by. A
    # column, not an index on lower(email): under row-level security a
    # non-leakproof function (lower) may not run before the tenant policy, so
    # `lower(email) = $1` was a filter over every one of the tenant's rows.
    email_key: Mapped[str] = mapped_column(String(254), Computed("lower(email)", persisted=True))
    full_name: Mapped[str] = mapped_column(String(200))
    roles: Mapped[list[str]] = mapped_column(ARRAY(String(30)))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # argon2id PHC string; None until the person sets one (reset link).
    password_hash: Mapped[str | None] = mapped_column(String(200))
    password_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # TOTP: the secret is enabled only once a code from it was confirmed.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_pending_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)  # replay guard
    last_sign_in_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @property
    def totp_enabled(self) -> bool:
        return self.totp_secret is not None and self.totp_enabled_at is not None


class ApiToken(Base):
    __tablename__ = "api_token"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenant.id"), index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff_user.id"))
    # Idempotency keys belong to the tenant: one integrator's key never blocks another's.
    request_id: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    user: Mapped[StaffUser] = relationship(lazy="joined")
    __table_args__ = (UniqueConstraint("tenant_id", "request_id"),)


class Customer(Base):
    __tablename__ = "customer"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenant.id"), index=True)
    request_id: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    access_state: Mapped[str] = mapped_column(String(20), default="active", server_default="active")
    access_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    purge_after: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    contacts: Mapped[list[Contact]] = relationship(
        # Contacts added in one transaction share created_at: the address breaks
        # the tie, so every read lists them in the same, readable order.
        lazy="selectin",
        order_by="(Contact.created_at, Contact.email)",
        cascade="all, delete-orphan",
    )
    __table_args__ = (
        UniqueConstraint("tenant_id", "request_id"),
        CheckConstraint(
            "access_state IN ('active', 'archived', 'deleted', 'purged')", name="access_state"
        ),
    )

    @property
    def current_contacts(self) -> list[Contact]:
        """Contacts not removed: the people who may sign in and who are told things."""
        return [c for c in self.contacts if c.removed_at is None]


class Contact(Base):
    __tablename__ = "contact"
    __table_args__ = (
        # One live contact per address in a tenant (case-insensitive); a removed
        # contact's address can be added again.
        Index(
            "uq_contact_tenant_id_email_key",
            "tenant_id",
            "email_key",
            unique=True,
            postgresql_where=text("removed_at IS NULL"),
        ),
        UniqueConstraint("tenant_id", "request_id"),
    )
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenant.id"), index=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customer.id"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    # lower(email), kept by PostgreSQL: what an address is looked up by. A
    # column, not an index on lower(email): under row-level security a
    # non-leakproof function (lower) may not run before the tenant policy, so
    # `lower(email) = $1` was a filter over every one of the tenant's rows.
    email_key: Mapped[str] = mapped_column(String(254), Computed("lower(email)", persisted=True))
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    request_id: Mapped[str | None] = mapped_column(String(100))  # AddContact's idempotency key
    password_hash: Mapped[str | None] = mapped_column(String(200))
    password_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    invited_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_sign_in_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @property
    def has_password(self) -> bool:
        return self.password_hash is not None


class Session(Base):
    """A signed-in browser. Only the SHA-256 of its token is stored."""

    __tablename__ = "session"
    __table_args__ = (
        Index("ix_session_tenant_id_subject_id", "tenant_id", "subject_id"),
        CheckConstraint("kind IN ('staff', 'client')", name="kind"),
    )
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenant.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    subject_id: Mapped[uuid.UUID] = mapped_column(Uuid)  # staff user or contact
    customer_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)  # clients
    view_as_customer_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)  # staff
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    ip: Mapped[str] = mapped_column(String(45), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_reason: Mapped[str | None] = mapped_column(String(40))
    # When and how the person last proved who they are: a signature asks for
    # a recent proof (step-up) when this is older than the tenant's limit.
    authenticated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    auth_method: Mapped[str] = mapped_column(String(20), default="password")
    step_up_code_hash: Mapped[str | None] = mapped_column(String(64))
    step_up_code_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    step_up_attempts: Mapped[int] = mapped_column(Integer, default=0)


class LoginToken(Base):
    """A one-time link (magic link, invite, password reset). Only its hash is stored."""

    __tablename__ = "login_token"
    __table_args__ = (
        Index("ix_login_token_tenant_id_subject_id", "tenant_id", "subject_id"),
        CheckConstraint("purpose IN ('magic_link', 'invite', 'password_reset')", name="purpose"),
        CheckConstraint("subject_kind IN ('staff', 'client')", name="subject_kind"),
    )
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenant.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    subject_kind: Mapped[str] = mapped_column(String(10))
    subject_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    email: Mapped[str] = mapped_column(String(254))
    created_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)  # the inviting staff user
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Superseded by a newer link of the same purpose, or its person lost access.
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class RecoveryCode(Base):
    """A single-use TOTP recovery code of a staff user (hash only)."""

    __tablename__ = "recovery_code"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenant.id"), index=True)
    staff_user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff_user.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class LoginFailure(Base):
    """A sign-in attempt that has not proved right, for throttling per account and
    per address: reserved before the password is checked, deleted if it was right
    (see domain_throttle). Ages out."""

    __tablename__ = "login_failure"
    __table_args__ = (
        Index("ix_login_failure_tenant_id_email_at", "tenant_id", "email", "at"),
        Index("ix_login_failure_tenant_id_ip_at", "tenant_id", "ip", "at"),
    )
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenant.id"))
    email: Mapped[str] = mapped_column(String(254))  # lowercased
    ip: Mapped[str] = mapped_column(String(45))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class LinkRequest(Base):
    """A magic-link or reset request, for any address: counted by the hourly caps,
    then handled after the answer (`handled_at`: the link issued, or nobody to
    send it to). Ages out."""

    __tablename__ = "link_request"
    __table_args__ = (
        Index("ix_link_request_tenant_id_email_at", "tenant_id", "email", "at"),
        Index("ix_link_request_tenant_id_ip_at", "tenant_id", "ip", "at"),
    )
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenant.id"))
    purpose: Mapped[str] = mapped_column(String(20))
    email: Mapped[str] = mapped_column(String(254))  # lowercased
    ip: Mapped[str] = mapped_column(String(45))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    handled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AuditEntry(Base):
    """Who did what to whom: access changes, view-as, invites, revocations, branding."""

    __tablename__ = "audit_entry"
    __table_args__ = (Index("ix_audit_entry_tenant_id_at", "tenant_id", "at"),)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenant.id"))
    actor: Mapped[str] = mapped_column(String(300))  # a person's name and id, or the system
    action: Mapped[str] = mapped_column(String(60))
    target: Mapped[str] = mapped_column(String(200))  # "customer:<id>", "contact:<id>", ...
    detail: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class BrandAsset(Base):
    """An uploaded logo or splash image, sealed (chassis.sealing) with the tenant,
    kind and SHA-256 as associated data. Served at a content-addressed path
    (`services.chassis.brand.asset_path`); a few recent ones per kind are kept so
    a page rendered just before a replacement still finds its image."""

    __tablename__ = "brand_asset"
    __table_args__ = (
        UniqueConstraint("tenant_id", "kind", "sha256"),
        CheckConstraint("kind IN ('logo', 'splash')", name="kind"),
    )
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenant.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    content_type: Mapped[str] = mapped_column(String(40))  # sniffed, never as declared
    sha256: Mapped[str] = mapped_column(String(64))  # of the original bytes
    size_bytes: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)  # the original, as uploaded
    # Logos only: a PNG small enough for a PDF letterhead (and an event), sealed too.
    print_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
