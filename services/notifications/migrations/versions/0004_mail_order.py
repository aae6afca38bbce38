"""Mail keeps the order of its events per recipient and project, and a failed
send remembers whether it was transient or permanent.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "email",
        sa.Column(
            "event_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
    )
    op.add_column(
        "email",
        sa.Column("ordering_key", sa.String(length=300), server_default="", nullable=False),
    )
    op.add_column(
        "email",
        sa.Column("failure_kind", sa.String(length=20), server_default="", nullable=False),
    )
    # Mail queued before this knew no event time: its queueing time is the best guess.
    op.execute("UPDATE email SET event_at = created_at")
    op.create_index(
        "ix_email_pending_in_order",
        "email",
        ["to_address", "ordering_key", "event_at"],
        postgresql_where=sa.text("status = 'pending'"),
    )


def downgrade() -> None:
    op.drop_index("ix_email_pending_in_order", table_name="email")
    op.drop_column("email", "failure_kind")
    op.drop_column("email", "ordering_key")
    op.drop_column("email", "event_at")
