"""The documents page lists a project's documents newest first: an index in
that order, so the list reads the project's rows in order instead of every
row of the project and a sort (and never the tenant's).

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

NAME = "ix_document_project_id_created_at_id"


def upgrade() -> None:
    op.create_index(NAME, "document", ["project_id", sa.text("created_at DESC"), "id"])


def downgrade() -> None:
    op.drop_index(NAME, table_name="document")
