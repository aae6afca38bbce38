"""ACH debits on an account typed by hand wait for micro-deposit verification:
the payment keeps Stripe's hosted verification page, the date the deposit
should land and its kind; the status "awaiting_verification" needs 21 letters.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column("payment", "status", type_=sa.String(30), existing_type=sa.String(20))
    op.add_column(
        "payment",
        sa.Column("verification_url", sa.String(500), server_default="", nullable=False),
    )
    op.add_column("payment", sa.Column("microdeposits_arrive_on", sa.Date(), nullable=True))
    op.add_column(
        "payment",
        sa.Column("microdeposit_type", sa.String(20), server_default="", nullable=False),
    )


def downgrade() -> None:
    for column in ("microdeposit_type", "microdeposits_arrive_on", "verification_url"):
        op.drop_column("payment", column)
    op.alter_column("payment", "status", type_=sa.String(20), existing_type=sa.String(30))
