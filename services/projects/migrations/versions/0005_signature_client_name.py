"""The client's name on a signature: the customer the signer signed for, as
identity named it at that moment (from the signer's session), so every copy
of the signed PDF names the client without asking identity again.

Adding a column with a constant default rewrites no rows (PostgreSQL 11+), so
the trigger that refuses changes to a signature is not involved.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "proposal_signature",
        sa.Column("client_name", sa.String(200), server_default="", nullable=False),
    )


def downgrade() -> None:
    op.drop_column("proposal_signature", "client_name")
