"""stripe_event is read by id only: its tenant_id index goes.

With it, the planner combined the row-level-security qual (tenant_id =
app.tenant_id) with the primary-key lookup of a webhook batch through a
BitmapAnd, or scanned the tenant's events outright, on statistics that lag a
table growing at webhook rates: at 1,000 events a second the after-commit
statement read ~33,000 buffers a call and grew with the table. Every read of
stripe_event names its id, so the primary key is the only path it needs.

Revision ID: 0008
Revises: 0007
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_stripe_event_tenant_id", table_name="stripe_event")


def downgrade() -> None:
    op.create_index("ix_stripe_event_tenant_id", "stripe_event", ["tenant_id"], unique=False)
