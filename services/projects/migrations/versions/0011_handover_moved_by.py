"""The change order that last moved a project's forecast handover, and the
forecast before and after it, so the board can say "moved by CO-003".

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "project",
        sa.Column("handover_moved_by", sa.String(50), server_default="", nullable=False),
    )
    op.add_column("project", sa.Column("handover_moved_from", sa.Date(), nullable=True))
    op.add_column("project", sa.Column("handover_moved_to", sa.Date(), nullable=True))


def downgrade() -> None:
    op.drop_column("project", "handover_moved_to")
    op.drop_column("project", "handover_moved_from")
    op.drop_column("project", "handover_moved_by")
