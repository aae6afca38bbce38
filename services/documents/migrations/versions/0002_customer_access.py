"""Documents keeps its own copy of each customer's portal access.

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
        "customer_access",
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("state", sa.Integer(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_customer_access")),
    )
    op.create_index(
        op.f("ix_customer_access_tenant_id"), "customer_access", ["tenant_id"], unique=False
    )
    enable_tenant_rls("customer_access")


def downgrade() -> None:
    op.drop_table("customer_access")
