"""The accounting connection per tenant (OAuth2 tokens sealed at rest), the
tenants the sync job visits, and what the job asks of sync_record.

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


def upgrade() -> None:
    op.create_table(
        "accounting_connection",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("provider", sa.String(length=20), server_default="", nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("organisation_id", sa.String(length=100), server_default="", nullable=False),
        sa.Column("organisation_name", sa.String(length=200), server_default="", nullable=False),
        sa.Column("sealed_tokens", sa.LargeBinary(), nullable=True),
        sa.Column("access_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("connected_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), server_default="", nullable=False),
        sa.Column("oauth_provider", sa.String(length=20), server_default="", nullable=False),
        sa.Column("oauth_state_digest", sa.String(length=64), server_default="", nullable=False),
        sa.Column("oauth_redirect_uri", sa.String(length=500), server_default="", nullable=False),
        sa.Column("oauth_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_accounting_connection")),
    )
    enable_tenant_rls("accounting_connection")
    # Left out of RLS on purpose: the sync job finds its tenants through it.
    op.create_table(
        "accounting_tenant",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_accounting_tenant")),
    )
    op.add_column(
        "sync_record",
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
    )
    op.create_index(
        "ix_sync_record_due",
        "sync_record",
        ["tenant_id", "provider", "state", "next_attempt_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_sync_record_due", table_name="sync_record")
    op.drop_column("sync_record", "created_at")
    op.drop_table("accounting_tenant")
    op.drop_table("accounting_connection")
