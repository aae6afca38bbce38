"""Documents keeps its own copy of each customer's portal access (the chassis table).

Revision ID: 0002
Revises: 0001
"""

from services.chassis.migrations import create_customer_access_table, drop_customer_access_table

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_customer_access_table()


def downgrade() -> None:
    drop_customer_access_table()
