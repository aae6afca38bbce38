"""Tell bookings which projects have a service contract: each one set before
`projects.project.service_contract_changed` existed gets one through the
outbox (its customers may book service visits).

Revision ID: 0008
Revises: 0007
"""

from datetime import UTC, datetime

from alembic import op
from portal.projects.v1 import events_pb2
from sqlalchemy import text

from services.chassis.db import outbox_message, outbox_row
from services.chassis.migrations import forced_rls_lifted

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with forced_rls_lifted("project"):
        projects = op.get_bind().execute(
            text("SELECT id, tenant_id, customer_id FROM project WHERE service_contract")
        )
        now = datetime.now(UTC)
        rows = [
            outbox_row(
                str(p.tenant_id),
                events_pb2.ProjectServiceContractChanged(
                    project_id=str(p.id), customer_id=str(p.customer_id), service_contract=True
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
