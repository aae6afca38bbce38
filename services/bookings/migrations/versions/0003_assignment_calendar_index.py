"""The slot search's index: each technician's active blocks by their end,
carrying their start and work order, so a month's calendars are read from
the index alone (no heap visit per block) from the window's start on.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_assignment_calendar",
        "assignment",
        ["tenant_id", "technician_id", "block_ends_at"],
        postgresql_include=["block_starts_at", "work_order_id"],
        postgresql_where=sa.text("active"),
    )


def downgrade() -> None:
    op.drop_index("ix_assignment_calendar", table_name="assignment")
