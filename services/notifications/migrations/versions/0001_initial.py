"""Initial schema of notifications, with the chassis tables and row-level security.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from services.chassis.migrations import create_chassis_tables, enable_tenant_rls

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TENANT_TABLES = ()


def upgrade() -> None:
    create_chassis_tables()
    op.create_table(
        "email",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("event_type", sa.String(length=200), nullable=False),
        sa.Column("from_name", sa.String(length=200), nullable=False),
        sa.Column("to_address", sa.String(length=254), nullable=False),
        sa.Column("to_name", sa.String(length=200), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("text_body", sa.Text(), nullable=False),
        sa.Column("html_body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column(
            "next_attempt_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email")),
        sa.UniqueConstraint("event_id", "to_address", name=op.f("uq_email_event_id_to_address")),
    )
    op.create_index(op.f("ix_email_status"), "email", ["status"], unique=False)
    op.create_index(op.f("ix_email_tenant_id"), "email", ["tenant_id"], unique=False)
    for table in TENANT_TABLES:
        enable_tenant_rls(table)


def downgrade() -> None:
    raise RuntimeError("the initial schema cannot be downgraded; drop the database instead")
