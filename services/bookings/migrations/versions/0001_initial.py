"""Initial schema of bookings: settings, technicians (from identity's staff
events) and their time off, service types, bookings' copy of projects' facts,
work orders and the assignments that hold technicians' time, bookings; the
chassis tables, the customer-access and project-audience copies, row-level
security, and the exclusion constraint that keeps a technician's blocks apart.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from services.chassis.migrations import (
    create_chassis_tables,
    create_customer_access_table,
    create_project_audience_table,
    enable_tenant_rls,
)

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TENANT_TABLES = (
    "booking_settings",
    "technician",
    "time_off",
    "service_type",
    "project_fact",
    "work_order",
    "assignment",
    "booking",
)


def upgrade() -> None:
    create_chassis_tables()
    create_customer_access_table()
    create_project_audience_table()
    # Installed by the suite as superuser (deploy/infra); trusted since PG 13,
    # so the owner may create it where it is missing.
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.create_table(
        "booking_settings",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("time_zone", sa.String(length=64), server_default="UTC", nullable=False),
        sa.Column("default_travel_minutes", sa.Integer(), server_default="30", nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_booking_settings")),
    )
    op.create_table(
        "project_fact",
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("reference", sa.String(length=20), nullable=False),
        sa.Column("stage", sa.String(length=20), server_default="", nullable=False),
        sa.Column("stage_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("service_contract", sa.Boolean(), nullable=False),
        sa.Column("contract_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("project_id", name=op.f("pk_project_fact")),
    )
    op.create_table(
        "service_type",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("request_id", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("step_minutes", sa.Integer(), nullable=False),
        sa.Column("skills", postgresql.ARRAY(sa.String(length=40)), nullable=False),
        sa.Column("buffer_before_minutes", sa.Integer(), nullable=False),
        sa.Column("buffer_after_minutes", sa.Integer(), nullable=False),
        sa.Column("min_notice_minutes", sa.Integer(), nullable=False),
        sa.Column("horizon_days", sa.Integer(), nullable=False),
        sa.Column("cancel_cutoff_minutes", sa.Integer(), nullable=False),
        sa.Column("reschedule_cutoff_minutes", sa.Integer(), nullable=False),
        sa.Column("requires_confirmation", sa.Boolean(), nullable=False),
        sa.Column("allow_service_contract", sa.Boolean(), nullable=False),
        sa.Column("allow_after_handover", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_type")),
        sa.UniqueConstraint(
            "tenant_id", "request_id", name=op.f("uq_service_type_tenant_id_request_id")
        ),
    )
    op.create_table(
        "technician",
        sa.Column("staff_user_id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column(
            "skills", postgresql.ARRAY(sa.String(length=40)), server_default="{}", nullable=False
        ),
        sa.Column("home_base", sa.String(length=300), server_default="", nullable=False),
        sa.Column("home_latitude", sa.Float(), nullable=True),
        sa.Column("home_longitude", sa.Float(), nullable=True),
        sa.Column("working_hours", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("feed_token_sha256", sa.String(length=64), nullable=True),
        sa.Column("feed_issued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("staff_user_id", name=op.f("pk_technician")),
        sa.UniqueConstraint("feed_token_sha256", name=op.f("uq_technician_feed_token_sha256")),
    )
    op.create_table(
        "work_order",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("request_id", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("booking_id", sa.Uuid(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("room_id", sa.String(length=100), nullable=False),
        sa.Column("room_name", sa.String(length=200), nullable=False),
        sa.Column("products", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("tasks", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("site_address", sa.Text(), server_default="", nullable=False),
        sa.Column("photo_document_ids", postgresql.ARRAY(sa.String(length=100)), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("buffer_before_minutes", sa.Integer(), nullable=False),
        sa.Column("buffer_after_minutes", sa.Integer(), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("conflict", sa.String(length=300), server_default="", nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_order")),
        sa.UniqueConstraint(
            "tenant_id", "request_id", name=op.f("uq_work_order_tenant_id_request_id")
        ),
    )
    op.create_table(
        "assignment",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("work_order_id", sa.Uuid(), nullable=False),
        sa.Column("technician_id", sa.Uuid(), nullable=False),
        sa.Column("block_starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("block_ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["technician_id"],
            ["technician.staff_user_id"],
            name=op.f("fk_assignment_technician_id_technician"),
        ),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_order.id"],
            name=op.f("fk_assignment_work_order_id_work_order"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignment")),
        sa.UniqueConstraint(
            "work_order_id", "technician_id", name=op.f("uq_assignment_work_order_id_technician_id")
        ),
    )
    op.create_table(
        "booking",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("request_id", sa.String(length=100), nullable=False),
        sa.Column("request_sha256", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("service_type_id", sa.Uuid(), nullable=False),
        sa.Column("service_type_name", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("work_order_id", sa.Uuid(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("booked_by", sa.String(length=100), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancel_reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["service_type_id"],
            ["service_type.id"],
            name=op.f("fk_booking_service_type_id_service_type"),
        ),
        sa.ForeignKeyConstraint(
            ["work_order_id"], ["work_order.id"], name=op.f("fk_booking_work_order_id_work_order")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking")),
        sa.UniqueConstraint(
            "tenant_id", "request_id", name=op.f("uq_booking_tenant_id_request_id")
        ),
    )
    op.create_table(
        "time_off",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("request_id", sa.String(length=100), nullable=False),
        sa.Column("technician_id", sa.Uuid(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["technician_id"],
            ["technician.staff_user_id"],
            name=op.f("fk_time_off_technician_id_technician"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_time_off")),
        sa.UniqueConstraint(
            "tenant_id", "request_id", name=op.f("uq_time_off_tenant_id_request_id")
        ),
    )
    op.create_index(
        op.f("ix_project_fact_customer_id"), "project_fact", ["customer_id"], unique=False
    )
    op.create_index(op.f("ix_project_fact_tenant_id"), "project_fact", ["tenant_id"], unique=False)
    op.create_index(op.f("ix_service_type_tenant_id"), "service_type", ["tenant_id"], unique=False)
    op.create_index(op.f("ix_technician_tenant_id"), "technician", ["tenant_id"], unique=False)
    op.create_index(op.f("ix_work_order_project_id"), "work_order", ["project_id"], unique=False)
    op.create_index(op.f("ix_work_order_tenant_id"), "work_order", ["tenant_id"], unique=False)
    op.create_index(op.f("ix_work_order_booking_id"), "work_order", ["booking_id"], unique=False)
    op.create_index(op.f("ix_work_order_customer_id"), "work_order", ["customer_id"], unique=False)
    op.create_index(op.f("ix_work_order_starts_at"), "work_order", ["starts_at"], unique=False)
    op.create_index(op.f("ix_assignment_tenant_id"), "assignment", ["tenant_id"], unique=False)
    op.create_index(
        op.f("ix_assignment_work_order_id"), "assignment", ["work_order_id"], unique=False
    )
    op.create_index(op.f("ix_booking_customer_id"), "booking", ["customer_id"], unique=False)
    op.create_index(op.f("ix_booking_starts_at"), "booking", ["starts_at"], unique=False)
    op.create_index(op.f("ix_booking_project_id"), "booking", ["project_id"], unique=False)
    op.create_index(op.f("ix_booking_tenant_id"), "booking", ["tenant_id"], unique=False)
    op.create_index(op.f("ix_time_off_tenant_id"), "time_off", ["tenant_id"], unique=False)
    op.create_index(op.f("ix_time_off_technician_id"), "time_off", ["technician_id"], unique=False)

    # One technician, one place at a time: while active, two blocks (each
    # visit with its own buffers, so neighbours' buffers stack) of the same
    # technician never overlap, whatever the application checked first.
    op.execute(
        "ALTER TABLE assignment ADD CONSTRAINT ex_assignment_no_overlap EXCLUDE USING gist "
        "(tenant_id WITH =, technician_id WITH =, "
        "tstzrange(block_starts_at, block_ends_at, '[)') WITH &&) WHERE (active)"
    )
    op.create_index(
        "ix_assignment_technician_block",
        "assignment",
        ["technician_id", "block_starts_at"],
        postgresql_where=sa.text("active"),
    )
    op.create_check_constraint("block_after_start", "assignment", "block_ends_at > block_starts_at")
    for table in TENANT_TABLES:
        enable_tenant_rls(table)


def downgrade() -> None:
    raise NotImplementedError("the first migration is not reversible")
