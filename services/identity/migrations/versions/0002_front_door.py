"""The front door: passwords, sessions, one-time links, TOTP, throttling, customer
access states and the audit log.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from services.chassis.migrations import enable_tenant_rls

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TENANT_TABLES = (
    "session",
    "login_token",
    "recovery_code",
    "login_failure",
    "link_request",
    "audit_entry",
)


def _ts(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    # --- existing tables ------------------------------------------------------
    op.add_column("staff_user", sa.Column("password_hash", sa.String(length=200), nullable=True))
    op.add_column("staff_user", _ts("password_changed_at"))
    op.add_column("staff_user", sa.Column("totp_secret", sa.String(length=64), nullable=True))
    op.add_column(
        "staff_user", sa.Column("totp_pending_secret", sa.String(length=64), nullable=True)
    )
    op.add_column("staff_user", _ts("totp_enabled_at"))
    op.add_column("staff_user", sa.Column("totp_last_step", sa.BigInteger(), nullable=True))
    op.add_column("staff_user", _ts("last_sign_in_at"))
    op.create_index(
        "ix_staff_user_tenant_id_lower_email",
        "staff_user",
        ["tenant_id", sa.text("lower(email)")],
        unique=False,
    )

    op.add_column(
        "customer",
        sa.Column("access_state", sa.String(length=20), server_default="active", nullable=False),
    )
    op.add_column("customer", _ts("access_changed_at"))
    op.add_column("customer", _ts("purge_after"))
    op.create_check_constraint(
        op.f("ck_customer_access_state"),
        "customer",
        "access_state IN ('active', 'archived', 'deleted', 'purged')",
    )

    op.add_column("contact", sa.Column("request_id", sa.String(length=100), nullable=True))
    op.add_column("contact", sa.Column("password_hash", sa.String(length=200), nullable=True))
    op.add_column("contact", _ts("password_changed_at"))
    op.add_column("contact", _ts("invited_at"))
    op.add_column("contact", _ts("last_sign_in_at"))
    op.add_column("contact", _ts("removed_at"))
    # One live contact per address (case-insensitive); a removed one's address is free again.
    op.drop_constraint("uq_contact_tenant_id_email", "contact", type_="unique")
    op.create_index(
        "uq_contact_tenant_id_lower_email",
        "contact",
        ["tenant_id", sa.text("lower(email)")],
        unique=True,
        postgresql_where=sa.text("removed_at IS NULL"),
    )
    op.create_unique_constraint(
        op.f("uq_contact_tenant_id_request_id"), "contact", ["tenant_id", "request_id"]
    )

    # --- new tables -------------------------------------------------------------
    op.create_table(
        "session",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=True),
        sa.Column("view_as_customer_id", sa.Uuid(), nullable=True),
        sa.Column("user_agent", sa.String(length=300), nullable=False),
        sa.Column("ip", sa.String(length=45), nullable=False),
        _ts("created_at", nullable=False),
        _ts("last_seen_at", nullable=False),
        _ts("expires_at", nullable=False),
        _ts("revoked_at"),
        sa.Column("revoked_reason", sa.String(length=40), nullable=True),
        sa.CheckConstraint("kind IN ('staff', 'client')", name=op.f("ck_session_kind")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_session_tenant_id_tenant")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_session_token_hash")),
    )
    op.create_index(op.f("ix_session_tenant_id"), "session", ["tenant_id"])
    op.create_index(op.f("ix_session_customer_id"), "session", ["customer_id"])
    op.create_index(op.f("ix_session_view_as_customer_id"), "session", ["view_as_customer_id"])
    op.create_index("ix_session_tenant_id_subject_id", "session", ["tenant_id", "subject_id"])

    op.create_table(
        "login_token",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("subject_kind", sa.String(length=10), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        _ts("created_at", nullable=False),
        _ts("expires_at", nullable=False),
        _ts("used_at"),
        _ts("revoked_at"),
        sa.CheckConstraint(
            "purpose IN ('magic_link', 'invite', 'password_reset')",
            name=op.f("ck_login_token_purpose"),
        ),
        sa.CheckConstraint(
            "subject_kind IN ('staff', 'client')", name=op.f("ck_login_token_subject_kind")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_login_token_tenant_id_tenant")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_login_token_token_hash")),
    )
    op.create_index(op.f("ix_login_token_tenant_id"), "login_token", ["tenant_id"])
    op.create_index(
        "ix_login_token_tenant_id_subject_id", "login_token", ["tenant_id", "subject_id"]
    )

    op.create_table(
        "recovery_code",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("staff_user_id", sa.Uuid(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        _ts("created_at", nullable=False),
        _ts("used_at"),
        sa.ForeignKeyConstraint(
            ["staff_user_id"],
            ["staff_user.id"],
            name=op.f("fk_recovery_code_staff_user_id_staff_user"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_recovery_code_tenant_id_tenant")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_code")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_recovery_code_code_hash")),
    )
    op.create_index(op.f("ix_recovery_code_tenant_id"), "recovery_code", ["tenant_id"])
    op.create_index(op.f("ix_recovery_code_staff_user_id"), "recovery_code", ["staff_user_id"])

    op.create_table(
        "login_failure",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("ip", sa.String(length=45), nullable=False),
        _ts("at", nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_login_failure_tenant_id_tenant")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failure")),
    )
    op.create_index(op.f("ix_login_failure_at"), "login_failure", ["at"])
    op.create_index(
        "ix_login_failure_tenant_id_email_at", "login_failure", ["tenant_id", "email", "at"]
    )
    op.create_index("ix_login_failure_tenant_id_ip_at", "login_failure", ["tenant_id", "ip", "at"])

    op.create_table(
        "link_request",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("ip", sa.String(length=45), nullable=False),
        _ts("at", nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_link_request_tenant_id_tenant")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link_request")),
    )
    op.create_index(op.f("ix_link_request_at"), "link_request", ["at"])
    op.create_index(
        "ix_link_request_tenant_id_email_at", "link_request", ["tenant_id", "email", "at"]
    )
    op.create_index("ix_link_request_tenant_id_ip_at", "link_request", ["tenant_id", "ip", "at"])

    op.create_table(
        "audit_entry",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("actor", sa.String(length=300), nullable=False),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("target", sa.String(length=200), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        _ts("at", nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_audit_entry_tenant_id_tenant")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entry")),
    )
    op.create_index("ix_audit_entry_tenant_id_at", "audit_entry", ["tenant_id", "at"])

    for table in TENANT_TABLES:
        enable_tenant_rls(table)


def downgrade() -> None:
    for table in reversed(TENANT_TABLES):
        op.drop_table(table)
    op.drop_constraint("uq_contact_tenant_id_request_id", "contact", type_="unique")
    op.drop_index("uq_contact_tenant_id_lower_email", table_name="contact")
    op.create_unique_constraint("uq_contact_tenant_id_email", "contact", ["tenant_id", "email"])
    for column in (
        "removed_at",
        "last_sign_in_at",
        "invited_at",
        "password_changed_at",
        "password_hash",
        "request_id",
    ):
        op.drop_column("contact", column)
    op.drop_constraint("ck_customer_access_state", "customer", type_="check")
    for column in ("purge_after", "access_changed_at", "access_state"):
        op.drop_column("customer", column)
    op.drop_index("ix_staff_user_tenant_id_lower_email", table_name="staff_user")
    for column in (
        "last_sign_in_at",
        "totp_last_step",
        "totp_enabled_at",
        "totp_pending_secret",
        "totp_secret",
        "password_changed_at",
        "password_hash",
    ):
        op.drop_column("staff_user", column)
