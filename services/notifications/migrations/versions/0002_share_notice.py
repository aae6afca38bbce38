"""Documents shared with a client wait here to be told in one digest.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "share_notice",
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("project_name", sa.String(length=200), nullable=False),
        sa.Column("document_title", sa.String(length=300), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("digest_id", sa.Uuid(), nullable=True),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_share_notice")),
    )
    op.create_index(op.f("ix_share_notice_tenant_id"), "share_notice", ["tenant_id"])
    op.create_index(op.f("ix_share_notice_digest_id"), "share_notice", ["digest_id"])


def downgrade() -> None:
    op.drop_table("share_notice")
