"""Approved change orders put on install work orders, once each.

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
        "change_order_work",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("change_order_id", sa.String(length=100), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("reference", sa.String(length=30), nullable=False),
        sa.Column("work_orders", sa.Integer(), nullable=False),
        sa.Column("flagged", sa.Integer(), nullable=False),
        sa.Column(
            "applied_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("tenant_id", "change_order_id", name=op.f("pk_change_order_work")),
    )
    enable_tenant_rls("change_order_work")


def downgrade() -> None:
    op.drop_table("change_order_work")
