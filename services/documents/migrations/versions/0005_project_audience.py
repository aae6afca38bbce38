"""Documents keeps its own copy of each project's audience (the chassis table),
so a contact a project does not list sees none of its documents.

Projects we already know start with the customer from `project_ref` and no
list (every contact, as before), dated when they were created: projects'
audience events, newer, replace them.

Revision ID: 0005
Revises: 0004
"""

from alembic import op
from sqlalchemy import text

from services.chassis.migrations import (
    create_project_audience_table,
    drop_project_audience_table,
    forced_rls_lifted,
)

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_project_audience_table()
    with forced_rls_lifted("project_ref", "project_audience"):
        op.execute(
            text(
                "INSERT INTO project_audience "
                "(project_id, tenant_id, customer_id, visible_contact_ids, changed_at) "
                "SELECT id, tenant_id, customer_id, '{}', created_at FROM project_ref "
                "ON CONFLICT (project_id) DO NOTHING"
            )
        )


def downgrade() -> None:
    drop_project_audience_table()
