"""The fingerprint of the request that made each row with an idempotency key
(project, stage_change, room, product_line, proposal): a retry with the same
key and the same request answers with the row; the same key on another
request (another project, another body) is refused instead of answered with
the first request's effect (services/chassis/idempotency.py).

Rows made before this have none and count as a match. A nullable column
rewrites no rows, so the triggers that guard sent proposals are not involved.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TABLES = ("project", "stage_change", "room", "product_line", "proposal")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column("request_sha256", sa.String(64), nullable=True))


def downgrade() -> None:
    for table in TABLES:
        op.drop_column(table, "request_sha256")
