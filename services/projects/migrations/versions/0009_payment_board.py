"""The board's payments: projects' copy of each invoice's standing and of the
plan's next payment, kept from payments' events.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

from services.chassis.migrations import enable_tenant_rls

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "invoice_standing",
        sa.Column("invoice_id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(50), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("total_minor", sa.BigInteger(), nullable=False),
        sa.Column("due_minor", sa.BigInteger(), nullable=False),
        sa.Column("processing_minor", sa.BigInteger(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("expected_by", sa.Date(), nullable=True),
        sa.Column("milestone_label", sa.String(80), nullable=False),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"], ["project.id"], name=op.f("fk_invoice_standing_project_id_project")
        ),
        sa.PrimaryKeyConstraint("invoice_id", name=op.f("pk_invoice_standing")),
    )
    op.create_index(op.f("ix_invoice_standing_tenant_id"), "invoice_standing", ["tenant_id"])
    op.create_index(op.f("ix_invoice_standing_project_id"), "invoice_standing", ["project_id"])
    op.create_table(
        "next_payment",
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("label", sa.String(80), nullable=False),
        sa.Column("trigger", sa.String(20), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("invoice_id", sa.String(40), nullable=False),
        sa.Column("invoice_number", sa.String(50), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"], ["project.id"], name=op.f("fk_next_payment_project_id_project")
        ),
        sa.PrimaryKeyConstraint("project_id", name=op.f("pk_next_payment")),
    )
    op.create_index(op.f("ix_next_payment_tenant_id"), "next_payment", ["tenant_id"])
    for table in ("invoice_standing", "next_payment"):
        enable_tenant_rls(table)


def downgrade() -> None:
    op.drop_table("next_payment")
    op.drop_table("invoice_standing")
