"""Pending emails by their next attempt: the mailer's "when is the next one
due?" reads the rows due soon, not every reminder scheduled days ahead.

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
    op.create_index(
        "ix_email_pending_next_attempt",
        "email",
        ["next_attempt_at"],
        postgresql_where=sa.text("status = 'pending'"),
    )


def downgrade() -> None:
    op.drop_index("ix_email_pending_next_attempt", table_name="email")
