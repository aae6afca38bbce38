"""Addresses are looked up by a stored lower(email) column, not an index on
the expression.

Under row-level security PostgreSQL may not evaluate a non-leakproof
function such as lower() before the tenant policy, so `lower(email) = $1`
could never be an index condition: sign-in and link requests filtered every
staff user and contact of the tenant. A generated column compared with `=`
(leakproof) is. The contact's one-live-address rule moves to the new column
unchanged.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_KEY = sa.Computed("lower(email)", persisted=True)


def upgrade() -> None:
    for table in ("staff_user", "contact"):
        op.add_column(table, sa.Column("email_key", sa.String(254), _KEY, nullable=False))
    op.create_index("ix_staff_user_tenant_id_email_key", "staff_user", ["tenant_id", "email_key"])
    op.drop_index("ix_staff_user_tenant_id_lower_email", table_name="staff_user")
    op.create_index(
        "uq_contact_tenant_id_email_key",
        "contact",
        ["tenant_id", "email_key"],
        unique=True,
        postgresql_where=sa.text("removed_at IS NULL"),
    )
    op.drop_index("uq_contact_tenant_id_lower_email", table_name="contact")


def downgrade() -> None:
    op.create_index(
        "uq_contact_tenant_id_lower_email",
        "contact",
        ["tenant_id", sa.text("lower(email)")],
        unique=True,
        postgresql_where=sa.text("removed_at IS NULL"),
    )
    op.drop_index("uq_contact_tenant_id_email_key", table_name="contact")
    op.create_index(
        "ix_staff_user_tenant_id_lower_email", "staff_user", ["tenant_id", sa.text("lower(email)")]
    )
    op.drop_index("ix_staff_user_tenant_id_email_key", table_name="staff_user")
    for table in ("contact", "staff_user"):
        op.drop_column(table, "email_key")
