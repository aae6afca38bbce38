"""The board's copy of an invoice keeps what ACH debits hold for the client's
micro-deposit verification, and payments' flag that verifying is the client's
next step, so the board asks them to verify instead of showing the money due.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "invoice_standing",
        sa.Column("verifying_minor", sa.BigInteger(), server_default="0", nullable=False),
    )
    op.add_column(
        "invoice_standing",
        sa.Column("awaiting_verification", sa.Boolean(), server_default="false", nullable=False),
    )


def downgrade() -> None:
    op.drop_column("invoice_standing", "awaiting_verification")
    op.drop_column("invoice_standing", "verifying_minor")
