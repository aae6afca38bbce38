"""The integrator's postal address and website, as branding: every PDF's
letterhead prints them under the integrator's name.

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
        "tenant", sa.Column("postal_address", sa.String(500), server_default="", nullable=False)
    )
    op.add_column("tenant", sa.Column("website", sa.String(500), server_default="", nullable=False))


def downgrade() -> None:
    op.drop_column("tenant", "website")
    op.drop_column("tenant", "postal_address")
