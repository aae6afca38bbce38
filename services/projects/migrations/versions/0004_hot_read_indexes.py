"""Indexes for the hot reads, so their cost does not grow with the tenant.

- project (tenant_id, created_at DESC, id DESC): the staff list is a range scan
  in its own order (keyset pages start right after the cursor), not a
  sequential scan plus a top-N sort.
- project (tenant_id, customer_id, created_at DESC, id DESC): a client's list,
  the same way, over their customer's projects only.
- stage_change (project_id, changed_at DESC, id): the board's latest notes and
  the stage history read the newest first straight from the index.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_project_tenant_id_created_at_id": (
        "project",
        ["tenant_id", sa.text("created_at DESC"), sa.text("id DESC")],
    ),
    "ix_project_tenant_id_customer_id_created_at_id": (
        "project",
        ["tenant_id", "customer_id", sa.text("created_at DESC"), sa.text("id DESC")],
    ),
    "ix_stage_change_project_id_changed_at_id": (
        "stage_change",
        ["project_id", sa.text("changed_at DESC"), "id"],
    ),
}


def upgrade() -> None:
    for name, (table, columns) in INDEXES.items():
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, (table, _) in INDEXES.items():
        op.drop_index(name, table_name=table)
