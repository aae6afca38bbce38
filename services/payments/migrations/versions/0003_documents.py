"""What payments needs to draw invoices, receipts and statements on its own
(after an event, with no gateway call): the site of each contract, and the
tenant's letterhead from the newest accepted proposal.

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
    op.add_column(
        "contract",
        sa.Column("site_address", sa.String(length=500), server_default="", nullable=False),
    )
    op.add_column("payment_settings", sa.Column("letterhead", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    op.drop_column("payment_settings", "letterhead")
    op.drop_column("contract", "site_address")
