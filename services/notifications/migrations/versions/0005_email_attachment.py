"""Emails carry files: a booking's email its calendar invitation.

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
    op.create_table(
        "email_attachment",
        sa.Column("email_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=200), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["email_id"],
            ["email.id"],
            name=op.f("fk_email_attachment_email_id_email"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("email_id", "position", name=op.f("pk_email_attachment")),
    )


def downgrade() -> None:
    op.drop_table("email_attachment")
