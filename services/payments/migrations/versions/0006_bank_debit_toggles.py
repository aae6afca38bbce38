"""Bank debits on the pay page: the tenant turns ACH and Bacs Direct Debit on
(off by default; the connected Stripe account must have them too).

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for column in ("ach_debit_enabled", "bacs_debit_enabled"):
        op.add_column(
            "payment_settings",
            sa.Column(column, sa.Boolean(), server_default=sa.false(), nullable=False),
        )


def downgrade() -> None:
    for column in ("ach_debit_enabled", "bacs_debit_enabled"):
        op.drop_column("payment_settings", column)
