"""Initial schema of changeorders: the contract each project's orders change,
change orders and their revisions, approvals (e-signatures), the thread of
comments, the hash-chained audit log and the approval deadlines, with the
chassis tables, the customer-access and project-audience copies and
row-level security.

Evidence is guarded by triggers as well as by the service: audit entries and
approvals refuse UPDATE and DELETE (and the audit log TRUNCATE), and a sent
revision's content is frozen.

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

# approval_deadline is left out on purpose: the expiry job reads it across tenants.
TENANT_TABLES = (
    "contract",
    "change_order",
    "change_order_revision",
    "approval",
    "change_order_comment",
    "audit_entry",
)


def _now(name: str) -> sa.Column:
    return sa.Column(
        name, sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
    )


def _when(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=True)


def upgrade() -> None:
    create_chassis_tables()
    create_customer_access_table()
    create_project_audience_table()
    jsonb = postgresql.JSONB(astext_type=sa.Text())
    op.create_table(
        "contract",
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("project_reference", sa.String(length=20), nullable=False),
        sa.Column("project_name", sa.String(length=200), nullable=False),
        sa.Column("proposal_id", sa.String(length=100), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("signed", jsonb, nullable=False),
        sa.Column("signed_total_minor", sa.BigInteger(), nullable=False),
        sa.Column("current", jsonb, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        _now("updated_at"),
        sa.PrimaryKeyConstraint("project_id", name=op.f("pk_contract")),
    )
    op.create_index(op.f("ix_contract_tenant_id"), "contract", ["tenant_id"])
    op.create_table(
        "change_order",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=20), nullable=False),
        sa.Column("request_id", sa.String(length=100), nullable=False),
        sa.Column("request_sha256", sa.String(length=64), nullable=False),
        sa.Column("current_revision", sa.Integer(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        _now("created_at"),
        _now("updated_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_order")),
        sa.UniqueConstraint(
            "tenant_id",
            "project_id",
            "number",
            name=op.f("uq_change_order_tenant_id_project_id_number"),
        ),
        sa.UniqueConstraint(
            "tenant_id", "request_id", name=op.f("uq_change_order_tenant_id_request_id")
        ),
    )
    for column in ("tenant_id", "project_id", "customer_id"):
        op.create_index(op.f(f"ix_change_order_{column}"), "change_order", [column])
    op.create_table(
        "change_order_revision",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("change_order_id", sa.Uuid(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.String(length=100), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("changes", jsonb, nullable=False),
        sa.Column("baseline", jsonb, nullable=False),
        sa.Column("baseline_version", sa.Integer(), nullable=False),
        sa.Column("stages", jsonb, nullable=False),
        sa.Column("schedule_days", sa.Integer(), nullable=False),
        sa.Column("shift_from", sa.String(length=20), nullable=False),
        _when("approval_deadline"),
        sa.Column("impact_minor", sa.BigInteger(), nullable=False),
        sa.Column("tax_impact_minor", sa.BigInteger(), nullable=False),
        sa.Column("content_json", sa.Text(), nullable=True),
        sa.Column("content_sha256", sa.String(length=64), nullable=True),
        sa.Column("consent_text", sa.Text(), nullable=False),
        sa.Column("decision_request_id", sa.String(length=100), nullable=True),
        sa.Column("withdrawn_reason", sa.Text(), server_default="", nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        _now("created_at"),
        _when("sent_at"),
        _when("viewed_at"),
        _when("decided_at"),
        sa.ForeignKeyConstraint(
            ["change_order_id"],
            ["change_order.id"],
            name=op.f("fk_change_order_revision_change_order_id_change_order"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_order_revision")),
        sa.UniqueConstraint(
            "change_order_id",
            "revision",
            name=op.f("uq_change_order_revision_change_order_id_revision"),
        ),
        sa.UniqueConstraint(
            "tenant_id", "request_id", name=op.f("uq_change_order_revision_tenant_id_request_id")
        ),
    )
    for column in ("tenant_id", "change_order_id"):
        op.create_index(
            op.f(f"ix_change_order_revision_{column}"), "change_order_revision", [column]
        )
    op.create_table(
        "approval",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("change_order_id", sa.Uuid(), nullable=False),
        sa.Column("revision_id", sa.Uuid(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.String(length=100), nullable=False),
        sa.Column("signer_name", sa.String(length=200), nullable=False),
        sa.Column("signer_contact_id", sa.String(length=100), nullable=False),
        sa.Column("signer_email", sa.String(length=320), nullable=False),
        sa.Column("client_name", sa.String(length=200), nullable=False),
        sa.Column("signer_session_id", sa.String(length=100), nullable=False),
        sa.Column("auth_method", sa.String(length=40), nullable=False),
        sa.Column("consent_text", sa.Text(), nullable=False),
        _when("viewed_at"),
        sa.Column("consented_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.Column("user_agent", sa.String(length=500), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["change_order_id"],
            ["change_order.id"],
            name=op.f("fk_approval_change_order_id_change_order"),
        ),
        sa.ForeignKeyConstraint(
            ["revision_id"],
            ["change_order_revision.id"],
            name=op.f("fk_approval_revision_id_change_order_revision"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approval")),
        sa.UniqueConstraint("change_order_id", name=op.f("uq_approval_change_order_id")),
        sa.UniqueConstraint(
            "tenant_id", "request_id", name=op.f("uq_approval_tenant_id_request_id")
        ),
    )
    op.create_index(op.f("ix_approval_tenant_id"), "approval", ["tenant_id"])
    op.create_table(
        "change_order_comment",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("change_order_id", sa.Uuid(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("line_key", sa.String(length=40), nullable=False),
        sa.Column("line_description", sa.String(length=300), nullable=False),
        sa.Column("author_kind", sa.String(length=10), nullable=False),
        sa.Column("author_id", sa.String(length=100), nullable=False),
        sa.Column("author_name", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["change_order_id"],
            ["change_order.id"],
            name=op.f("fk_change_order_comment_change_order_id_change_order"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_order_comment")),
    )
    for column in ("tenant_id", "change_order_id"):
        op.create_index(op.f(f"ix_change_order_comment_{column}"), "change_order_comment", [column])
    op.create_table(
        "audit_entry",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("change_order_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=30), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("facts", jsonb, nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("prev_sha256", sa.String(length=64), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["change_order_id"],
            ["change_order.id"],
            name=op.f("fk_audit_entry_change_order_id_change_order"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entry")),
        sa.UniqueConstraint(
            "change_order_id", "seq", name=op.f("uq_audit_entry_change_order_id_seq")
        ),
    )
    op.create_index(op.f("ix_audit_entry_tenant_id"), "audit_entry", ["tenant_id"])
    op.create_table(
        "approval_deadline",
        sa.Column("revision_id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("change_order_id", sa.Uuid(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("revision_id", name=op.f("pk_approval_deadline")),
    )
    op.create_index(op.f("ix_approval_deadline_due_at"), "approval_deadline", ["due_at"])
    for table in TENANT_TABLES:
        enable_tenant_rls(table)
    _create_evidence_triggers()


def _create_evidence_triggers() -> None:
    op.execute(
        """
        CREATE FUNCTION evidence_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '% is evidence: rows are appended, never changed or removed',
                TG_TABLE_NAME;
        END $$
        """
    )
    for table in ("audit_entry", "approval"):
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION evidence_is_append_only()"
        )
    op.execute(
        "CREATE TRIGGER audit_entry_no_truncate BEFORE TRUNCATE ON audit_entry "
        "FOR EACH STATEMENT EXECUTE FUNCTION evidence_is_append_only()"
    )
    # Once sent, a revision's content is what the client was shown and may
    # sign: only its status, times and decision fields move.
    op.execute(
        """
        CREATE FUNCTION revision_guard() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            mutable CONSTANT text[] := ARRAY[
                'status', 'viewed_at', 'decided_at', 'decision_request_id', 'withdrawn_reason'
            ];
        BEGIN
            IF TG_OP = 'DELETE' THEN
                IF OLD.sent_at IS NOT NULL THEN
                    RAISE EXCEPTION 'revision % has been sent and cannot be deleted', OLD.id;
                END IF;
                RETURN OLD;
            END IF;
            IF OLD.sent_at IS NOT NULL
               AND (to_jsonb(NEW) - mutable) IS DISTINCT FROM (to_jsonb(OLD) - mutable) THEN
                RAISE EXCEPTION 'revision % has been sent: its content is frozen', OLD.id;
            END IF;
            RETURN NEW;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER change_order_revision_guard BEFORE UPDATE OR DELETE "
        "ON change_order_revision FOR EACH ROW EXECUTE FUNCTION revision_guard()"
    )


def downgrade() -> None:
    raise NotImplementedError("the first migration is not reversible")
