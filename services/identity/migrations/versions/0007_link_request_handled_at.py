"""Link requests are handled after the answer (identity consumes its own
identity.link.requested): `handled_at` marks a request whose link was issued,
or that had nobody to send one to, so a redelivered event changes nothing.

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
    op.add_column("link_request", sa.Column("handled_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    op.drop_column("link_request", "handled_at")
