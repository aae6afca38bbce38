"""Tell documents and notifications whom each project is for: projects that
already list visible contacts get one `projects.project.audience_changed`
through the outbox (the relay publishes it once projects runs). Their copies
start from ProjectCreated or from nothing, i.e. every contact, so without this
a list set before they kept a copy would hold only in projects.

Revision ID: 0006
Revises: 0005
"""

from datetime import UTC, datetime

from alembic import op
from portal.projects.v1 import events_pb2
from sqlalchemy import text

from services.chassis.db import outbox_message, outbox_row
from services.chassis.migrations import forced_rls_lifted

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with forced_rls_lifted("project"):
        projects = op.get_bind().execute(
            text(
                "SELECT id, tenant_id, customer_id, visible_contact_ids FROM project "
                "WHERE cardinality(visible_contact_ids) > 0"
            )
        )
        now = datetime.now(UTC)
        rows = [
            outbox_row(
                str(p.tenant_id),
                events_pb2.ProjectAudienceChanged(
                    project_id=str(p.id),
                    customer_id=str(p.customer_id),
                    visible_contact_ids=p.visible_contact_ids,
                ),
                aggregate_type="project",
                aggregate_id=str(p.id),
                occurred_at=now,
            )
            for p in projects
        ]
    if rows:
        op.bulk_insert(outbox_message, rows)


def downgrade() -> None:
    pass  # announcements sent stay sent; nothing to undo
