"""Every project we know has its default folders, so listing folders only reads.

They were created on the first view of a project's folders (an INSERT, and a
commit, on every listing). Now they come with our copy of the project
(`on_project_created`); this seeds the projects known before, every
tenant's. The names are fixed here as they were at the time.

Revision ID: 0006
Revises: 0005
"""

from alembic import op
from sqlalchemy import text

from services.chassis.migrations import forced_rls_lifted

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with forced_rls_lifted("project_ref", "folder"):
        op.execute(
            text(
                "INSERT INTO folder (id, tenant_id, project_id, name, position) "
                "SELECT gen_random_uuid(), r.tenant_id, r.id, d.name, d.position "
                "FROM project_ref r CROSS JOIN (VALUES ('Proposals', 0), ('Schematics', 1), "
                "('Handover', 2), ('Manuals', 3)) AS d(name, position) "
                "ON CONFLICT (tenant_id, project_id, name) DO NOTHING"
            )
        )


def downgrade() -> None:
    pass  # the folders stay: documents may be filed in them
