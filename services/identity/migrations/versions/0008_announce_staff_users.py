"""Tell bookings who the staff are: every staff user made before
`identity.staff_user.changed` existed gets one through the outbox (the relay
publishes it once identity runs), so technicians seeded or created earlier
are known to the dispatch calendar too.

Revision ID: 0008
Revises: 0007
"""

from datetime import UTC, datetime

from alembic import op
from portal.identity.v1 import events_pb2
from sqlalchemy import text

from services.chassis.db import outbox_message, outbox_row
from services.chassis.migrations import forced_rls_lifted

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with forced_rls_lifted("staff_user"):
        users = op.get_bind().execute(
            text("SELECT id, tenant_id, email, full_name, roles FROM staff_user")
        )
        now = datetime.now(UTC)
        rows = [
            outbox_row(
                str(u.tenant_id),
                events_pb2.StaffUserChanged(
                    staff_user_id=str(u.id),
                    email=u.email,
                    full_name=u.full_name,
                    roles=list(u.roles),
                ),
                aggregate_type="staff_user",
                aggregate_id=str(u.id),
                occurred_at=now,
            )
            for u in users
        ]
    if rows:
        op.bulk_insert(outbox_message, rows)


def downgrade() -> None:
    pass  # announcements sent stay sent; nothing to undo
