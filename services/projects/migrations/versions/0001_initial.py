"""Initial schema of projects, with the chassis tables and row-level security.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from services.chassis.migrations import create_chassis_tables, enable_tenant_rls

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TENANT_TABLES = (
    "project",
    "stage_change",
)


def upgrade() -> None:
    create_chassis_tables()
    op.create_table(
        "project",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("request_id", sa.String(length=100), nullable=False),
        sa.Column("reference", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("site_address", sa.String(length=500), nullable=False),
        sa.Column("stage", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "stage_changed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project")),
        sa.UniqueConstraint("tenant_id", "reference", name=op.f("uq_project_tenant_id_reference")),
        sa.UniqueConstraint(
            "tenant_id", "request_id", name=op.f("uq_project_tenant_id_request_id")
        ),
    )
    op.create_index(op.f("ix_project_customer_id"), "project", ["customer_id"], unique=False)
    op.create_index(op.f("ix_project_tenant_id"), "project", ["tenant_id"], unique=False)
    op.create_table(
        "stage_change",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("request_id", sa.String(length=100), nullable=False),
        sa.Column("from_stage", sa.Integer(), nullable=False),
        sa.Column("to_stage", sa.Integer(), nullable=False),
        sa.Column("changed_by", sa.String(length=100), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("client_note", sa.Text(), nullable=False),
        sa.Column(
            "changed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["project.id"], name=op.f("fk_stage_change_project_id_project")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stage_change")),
        sa.UniqueConstraint(
            "tenant_id", "request_id", name=op.f("uq_stage_change_tenant_id_request_id")
        ),
    )
    op.create_index(
        op.f("ix_stage_change_project_id"), "stage_change", ["project_id"], unique=False
    )
    op.create_index(op.f("ix_stage_change_tenant_id"), "stage_change", ["tenant_id"], unique=False)
    for table in TENANT_TABLES:
        enable_tenant_rls(table)


def downgrade() -> None:
    raise RuntimeError("the initial schema cannot be downgraded; drop the database instead")
