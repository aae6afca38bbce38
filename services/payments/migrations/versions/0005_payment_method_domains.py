"""Payment-method domains: each tenant's portal host, registered once on its
Stripe account (Apple Pay, Google Pay). Not under RLS, like stripe_account:
the registering job finds its work across tenants.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "payment_method_domain",
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("account_id", sa.String(length=100), server_default="", nullable=False),
        sa.Column("stripe_id", sa.String(length=100), server_default="", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_error", sa.Text(), server_default="", nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("domain", name=op.f("pk_payment_method_domain")),
    )
    op.create_index(
        op.f("ix_payment_method_domain_tenant_id"), "payment_method_domain", ["tenant_id"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_payment_method_domain_tenant_id"), table_name="payment_method_domain")
    op.drop_table("payment_method_domain")
