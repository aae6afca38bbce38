"""Initial schema of payments: invoices and their lines, payments, refunds,
Stripe events, the payment settings and plan, the accounting sync, with the
chassis tables, the customer-access copy and row-level security.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from services.chassis.migrations import (
    create_chassis_tables,
    create_customer_access_table,
    enable_tenant_rls,
)

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# stripe_account is left out on purpose: a webhook finds its tenant through it.
TENANT_TABLES = (
    "payment_settings",
    "contract",
    "invoice",
    "invoice_line",
    "payment",
    "refund",
    "stripe_event",
    "sync_record",
)


def upgrade() -> None:
    create_chassis_tables()
    create_customer_access_table()
    op.create_table(
        "contract",
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("project_name", sa.String(length=200), nullable=False),
        sa.Column("project_reference", sa.String(length=20), nullable=False),
        sa.Column("client_name", sa.String(length=200), server_default="", nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("accepted_total_minor", sa.BigInteger(), nullable=False),
        sa.Column("accepted_tax_minor", sa.BigInteger(), nullable=False),
        sa.Column("variations_minor", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("proposal_id", sa.String(length=100), server_default="", nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("milestones", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("stage", sa.String(length=20), server_default="", nullable=False),
        sa.PrimaryKeyConstraint("project_id", name=op.f("pk_contract")),
    )
    op.create_index(op.f("ix_contract_customer_id"), "contract", ["customer_id"], unique=False)
    op.create_index(op.f("ix_contract_tenant_id"), "contract", ["tenant_id"], unique=False)
    op.create_table(
        "invoice",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("request_id", sa.String(length=100), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("project_name", sa.String(length=200), nullable=False),
        sa.Column("project_reference", sa.String(length=20), nullable=False),
        sa.Column("number", sa.String(length=30), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("tax_rate_bps", sa.Integer(), nullable=False),
        sa.Column("subtotal_minor", sa.BigInteger(), nullable=False),
        sa.Column("tax_minor", sa.BigInteger(), nullable=False),
        sa.Column("total_minor", sa.BigInteger(), nullable=False),
        sa.Column("terms_days", sa.Integer(), nullable=False),
        sa.Column("memo", sa.Text(), nullable=False),
        sa.Column("milestone", sa.String(length=20), nullable=True),
        sa.Column("issued_on", sa.Date(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("voided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("void_reason", sa.Text(), server_default="", nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice")),
        sa.UniqueConstraint("tenant_id", "number", name=op.f("uq_invoice_tenant_id_number")),
        sa.UniqueConstraint(
            "tenant_id", "request_id", name=op.f("uq_invoice_tenant_id_request_id")
        ),
    )
    op.create_index(op.f("ix_invoice_customer_id"), "invoice", ["customer_id"], unique=False)
    op.create_index(op.f("ix_invoice_project_id"), "invoice", ["project_id"], unique=False)
    op.create_index(op.f("ix_invoice_tenant_id"), "invoice", ["tenant_id"], unique=False)
    op.create_index(
        "uq_invoice_milestone",
        "invoice",
        ["project_id", "milestone"],
        unique=True,
        postgresql_where=sa.text("milestone IS NOT NULL AND voided_at IS NULL"),
    )
    op.create_table(
        "payment_settings",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("stripe_account_id", sa.String(length=100), server_default="", nullable=False),
        sa.Column("publishable_key", sa.String(length=200), server_default="", nullable=False),
        sa.Column("minimum_payment_minor", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("card_surcharge_bps", sa.Integer(), server_default="0", nullable=False),
        sa.Column("bank_discount_bps", sa.Integer(), server_default="0", nullable=False),
        sa.Column("region", sa.String(length=10), server_default="US", nullable=False),
        sa.Column("default_terms_days", sa.Integer(), server_default="14", nullable=False),
        sa.Column("default_plan", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("invoice_prefix", sa.String(length=10), server_default="INV", nullable=False),
        sa.Column("last_invoice_number", sa.Integer(), server_default="1000", nullable=False),
        sa.Column("currency", sa.String(length=3), server_default="USD", nullable=False),
        sa.Column("time_zone", sa.String(length=64), server_default="UTC", nullable=False),
        sa.Column("accounting_provider", sa.String(length=20), server_default="", nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_payment_settings")),
    )
    op.create_table(
        "stripe_account",
        sa.Column("account_id", sa.String(length=100), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_stripe_account")),
        sa.UniqueConstraint("tenant_id", name=op.f("uq_stripe_account_tenant_id")),
    )
    op.create_table(
        "stripe_event",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("account", sa.String(length=100), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stripe_event")),
    )
    op.create_index(op.f("ix_stripe_event_tenant_id"), "stripe_event", ["tenant_id"], unique=False)
    op.create_table(
        "sync_record",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("record_id", sa.String(length=100), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column(
            "next_attempt_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_record")),
        sa.UniqueConstraint(
            "tenant_id",
            "provider",
            "kind",
            "record_id",
            name=op.f("uq_sync_record_tenant_id_provider_kind_record_id"),
        ),
    )
    op.create_index(op.f("ix_sync_record_tenant_id"), "sync_record", ["tenant_id"], unique=False)
    op.create_table(
        "invoice_line",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("invoice_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("description", sa.String(length=300), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price_minor", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoice.id"], name=op.f("fk_invoice_line_invoice_id_invoice")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice_line")),
    )
    op.create_index(
        op.f("ix_invoice_line_invoice_id"), "invoice_line", ["invoice_id"], unique=False
    )
    op.create_table(
        "payment",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("invoice_id", sa.Uuid(), nullable=False),
        sa.Column("attempt_id", sa.String(length=100), nullable=True),
        sa.Column("request_id", sa.String(length=100), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("status_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("method", sa.String(length=30), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("applied_minor", sa.BigInteger(), nullable=False),
        sa.Column("surcharge_minor", sa.BigInteger(), nullable=False),
        sa.Column("discount_minor", sa.BigInteger(), nullable=False),
        sa.Column("stripe_payment_intent_id", sa.String(length=100), nullable=False),
        sa.Column("client_secret", sa.String(length=200), nullable=False),
        sa.Column("failure_message", sa.Text(), nullable=False),
        sa.Column("expected_by", sa.Date(), nullable=True),
        sa.Column("reference", sa.String(length=120), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=True),
        sa.Column("card_brand", sa.String(length=20), nullable=False),
        sa.Column("card_last4", sa.String(length=4), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("succeeded_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoice.id"], name=op.f("fk_payment_invoice_id_invoice")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment")),
        sa.UniqueConstraint(
            "invoice_id", "attempt_id", name=op.f("uq_payment_invoice_id_attempt_id")
        ),
        sa.UniqueConstraint(
            "tenant_id", "request_id", name=op.f("uq_payment_tenant_id_request_id")
        ),
    )
    op.create_index(op.f("ix_payment_invoice_id"), "payment", ["invoice_id"], unique=False)
    op.create_index(op.f("ix_payment_tenant_id"), "payment", ["tenant_id"], unique=False)
    op.create_index(
        "uq_payment_intent",
        "payment",
        ["stripe_payment_intent_id"],
        unique=True,
        postgresql_where=sa.text("stripe_payment_intent_id <> ''"),
    )
    op.create_table(
        "refund",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("payment_id", sa.Uuid(), nullable=False),
        sa.Column("request_id", sa.String(length=100), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("stripe_refund_id", sa.String(length=100), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payment.id"], name=op.f("fk_refund_payment_id_payment")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refund")),
        sa.UniqueConstraint("tenant_id", "request_id", name=op.f("uq_refund_tenant_id_request_id")),
    )
    op.create_index(op.f("ix_refund_payment_id"), "refund", ["payment_id"], unique=False)
    op.create_index(op.f("ix_refund_tenant_id"), "refund", ["tenant_id"], unique=False)
    for table in TENANT_TABLES:
        enable_tenant_rls(table)


def downgrade() -> None:
    raise NotImplementedError("the first migration is not reversible")
