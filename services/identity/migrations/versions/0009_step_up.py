"""Step-up before a signature: each session remembers when and how its
person last proved who they are (sign-in or step-up), and may hold one
emailed step-up code (its SHA-256, expiry and failed tries); each tenant sets
how old that proof may be when a client signs (30 minutes unless changed).

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("session", sa.Column("authenticated_at", sa.DateTime(timezone=True)))
    op.execute("UPDATE session SET authenticated_at = created_at")
    op.alter_column("session", "authenticated_at", nullable=False)
    op.add_column(
        "session",
        sa.Column("auth_method", sa.String(20), nullable=False, server_default="password"),
    )
    op.add_column("session", sa.Column("step_up_code_hash", sa.String(64)))
    op.add_column("session", sa.Column("step_up_code_expires_at", sa.DateTime(timezone=True)))
    op.add_column(
        "session",
        sa.Column("step_up_attempts", sa.Integer, nullable=False, server_default="0"),
    )
    op.add_column(
        "tenant",
        sa.Column("signing_reauth_minutes", sa.Integer, nullable=False, server_default="30"),
    )


def downgrade() -> None:
    op.drop_column("tenant", "signing_reauth_minutes")
    for column in (
        "step_up_attempts",
        "step_up_code_expires_at",
        "step_up_code_hash",
        "auth_method",
        "authenticated_at",
    ):
        op.drop_column("session", column)
