"""Change orders awaiting approval on the board: a waiting item keeps where in
its producer's lifecycle the newest report it reflects stands, so a late or
repeated change order event changes nothing (null for items that need none).

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("waiting_item", sa.Column("report_order", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    op.drop_column("waiting_item", "report_order")
