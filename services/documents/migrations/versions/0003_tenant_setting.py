"""Each tenant's own upload limit.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

from services.chassis.migrations import enable_tenant_rls

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tenant_setting",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("max_upload_bytes", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_tenant_setting")),
    )
    enable_tenant_rls("tenant_setting")


def downgrade() -> None:
    op.drop_table("tenant_setting")
