"""Approved change orders on the invoice schedule: the tenant's rule, each
variation once (what it added to which milestone, or the invoice or credit
note it was billed as), and the milestones' sum of what variations added.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from services.chassis.migrations import enable_tenant_rls

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "payment_settings",
        sa.Column("variation_rule", sa.String(length=20), server_default="spread", nullable=False),
    )
    op.add_column(
        "contract",
        sa.Column(
            "variation_added",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
    )
    op.create_table(
        "variation",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("change_order_id", sa.String(length=100), nullable=False),
        sa.Column("reference", sa.String(length=30), nullable=False),
        sa.Column("rule", sa.String(length=20), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("tax_minor", sa.BigInteger(), nullable=False),
        sa.Column("added", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("invoice_id", sa.Uuid(), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoice.id"], name=op.f("fk_variation_invoice_id_invoice")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_variation")),
        sa.UniqueConstraint(
            "tenant_id", "change_order_id", name=op.f("uq_variation_tenant_id_change_order_id")
        ),
    )
    op.create_index(op.f("ix_variation_project_id"), "variation", ["project_id"], unique=False)
    enable_tenant_rls("variation")


def downgrade() -> None:
    op.drop_table("variation")
    op.drop_column("contract", "variation_added")
    op.drop_column("payment_settings", "variation_rule")
