"""Stage plans and the status board, rooms and product lines, proposals with
their snapshots and signatures, waiting items, variations; the project's
currency, manager, contact visibility, service contract and variation sum.

Frozen proposal content is also guarded by triggers: the service refuses the
change first; the database refuses it even if a future code path forgets.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

from services.chassis.migrations import enable_tenant_rls

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TENANT_TABLES = (
    "project_stage",
    "room",
    "product_line",
    "proposal",
    "proposal_room",
    "proposal_line",
    "proposal_signature",
    "waiting_item",
    "variation",
)


def _created_at() -> sa.Column:
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
    )


def upgrade() -> None:
    # -- project ---------------------------------------------------------------------
    op.add_column(
        "project", sa.Column("currency", sa.String(3), server_default="USD", nullable=False)
    )
    op.add_column(
        "project",
        sa.Column("project_manager_id", sa.String(100), server_default="", nullable=False),
    )
    op.add_column(
        "project",
        sa.Column("project_manager_name", sa.String(200), server_default="", nullable=False),
    )
    op.add_column(
        "project",
        sa.Column("project_manager_email", sa.String(320), server_default="", nullable=False),
    )
    op.add_column(
        "project",
        sa.Column(
            "visible_contact_ids", sa.ARRAY(sa.String(100)), server_default="{}", nullable=False
        ),
    )
    op.add_column(
        "project",
        sa.Column("service_contract", sa.Boolean(), server_default="false", nullable=False),
    )
    op.add_column(
        "project",
        sa.Column("approved_variations_minor", sa.BigInteger(), server_default="0", nullable=False),
    )

    # -- stages ----------------------------------------------------------------------
    op.create_table(
        "project_stage",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("stage", sa.Integer(), nullable=False),
        sa.Column("planned_start", sa.Date(), nullable=True),
        sa.Column("planned_finish", sa.Date(), nullable=True),
        sa.Column("actual_start", sa.Date(), nullable=True),
        sa.Column("actual_finish", sa.Date(), nullable=True),
        sa.Column("client_note", sa.Text(), server_default="", nullable=False),
        sa.Column("note_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("stage BETWEEN 1 AND 5", name=op.f("ck_project_stage_stage")),
        sa.CheckConstraint(
            "planned_finish >= planned_start", name=op.f("ck_project_stage_planned_order")
        ),
        sa.CheckConstraint(
            "actual_finish >= actual_start", name=op.f("ck_project_stage_actual_order")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["project.id"], name=op.f("fk_project_stage_project_id_project")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project_stage")),
        sa.UniqueConstraint("project_id", "stage", name=op.f("uq_project_stage_project_id_stage")),
    )
    op.create_index(
        op.f("ix_project_stage_tenant_id"), "project_stage", ["tenant_id"], unique=False
    )
    # Existing projects get their five rows. Design started when the project was
    # made; the current stage when the project entered it (UTC dates). Every
    # tenant's projects: row-level security is lifted for the owner (this
    # migration's role) around the copy, inside this migration's transaction.
    op.execute("ALTER TABLE project NO FORCE ROW LEVEL SECURITY")
    op.execute(
        """
        INSERT INTO project_stage (id, tenant_id, project_id, stage, actual_start)
        SELECT gen_random_uuid(), p.tenant_id, p.id, s.stage,
               CASE WHEN s.stage = p.stage THEN (p.stage_changed_at AT TIME ZONE 'UTC')::date
                    WHEN s.stage = 1 THEN (p.created_at AT TIME ZONE 'UTC')::date
               END
        FROM project p CROSS JOIN generate_series(1, 5) AS s(stage)
        """
    )
    op.execute("ALTER TABLE project FORCE ROW LEVEL SECURITY")

    # -- rooms and product lines -----------------------------------------------------
    op.create_table(
        "room",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("request_id", sa.String(100), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("client_visible", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        _created_at(),
        sa.ForeignKeyConstraint(
            ["project_id"], ["project.id"], name=op.f("fk_room_project_id_project")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_room")),
        sa.UniqueConstraint("tenant_id", "request_id", name=op.f("uq_room_tenant_id_request_id")),
    )
    op.create_index(op.f("ix_room_project_id"), "room", ["project_id"], unique=False)
    op.create_index(op.f("ix_room_tenant_id"), "room", ["tenant_id"], unique=False)
    op.create_table(
        "product_line",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("room_id", sa.Uuid(), nullable=False),
        sa.Column("request_id", sa.String(100), nullable=False),
        sa.Column("manufacturer", sa.String(200), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price_minor", sa.BigInteger(), nullable=False),
        sa.Column("client_visible", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        _created_at(),
        sa.CheckConstraint("quantity BETWEEN 1 AND 10000", name=op.f("ck_product_line_quantity")),
        sa.CheckConstraint(
            "unit_price_minor BETWEEN 0 AND 10000000000", name=op.f("ck_product_line_unit_price")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["project.id"], name=op.f("fk_product_line_project_id_project")
        ),
        sa.ForeignKeyConstraint(
            ["room_id"],
            ["room.id"],
            name=op.f("fk_product_line_room_id_room"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_line")),
        sa.UniqueConstraint(
            "tenant_id", "request_id", name=op.f("uq_product_line_tenant_id_request_id")
        ),
    )
    op.create_index(op.f("ix_product_line_project_id"), "product_line", ["project_id"])
    op.create_index(op.f("ix_product_line_room_id"), "product_line", ["room_id"])
    op.create_index(op.f("ix_product_line_tenant_id"), "product_line", ["tenant_id"])

    # -- proposals -------------------------------------------------------------------
    op.create_table(
        "proposal",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("request_id", sa.String(100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("introduction", sa.Text(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("labour_minor", sa.BigInteger(), nullable=False),
        sa.Column("discount_minor", sa.BigInteger(), nullable=False),
        sa.Column("tax_rate_bps", sa.Integer(), nullable=False),
        sa.Column("subtotal_minor", sa.BigInteger(), nullable=False),
        sa.Column("tax_minor", sa.BigInteger(), nullable=False),
        sa.Column("total_minor", sa.BigInteger(), nullable=False),
        sa.Column("consent_text", sa.Text(), server_default="", nullable=False),
        sa.Column("content_json", sa.Text(), nullable=True),
        sa.Column("content_sha256", sa.String(64), nullable=True),
        sa.Column("created_by", sa.String(100), nullable=False),
        _created_at(),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_by", sa.String(100), nullable=True),
        sa.Column("superseded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status BETWEEN 1 AND 4", name=op.f("ck_proposal_status")),
        sa.CheckConstraint("tax_rate_bps BETWEEN 0 AND 5000", name=op.f("ck_proposal_tax_rate")),
        sa.ForeignKeyConstraint(
            ["project_id"], ["project.id"], name=op.f("fk_proposal_project_id_project")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposal")),
        sa.UniqueConstraint("project_id", "version", name=op.f("uq_proposal_project_id_version")),
        sa.UniqueConstraint(
            "tenant_id", "request_id", name=op.f("uq_proposal_tenant_id_request_id")
        ),
    )
    op.create_index(op.f("ix_proposal_project_id"), "proposal", ["project_id"])
    op.create_index(op.f("ix_proposal_tenant_id"), "proposal", ["tenant_id"])
    op.create_index(
        "uq_proposal_project_id_accepted",
        "proposal",
        ["project_id"],
        unique=True,
        postgresql_where=sa.text("status = 3"),
    )
    op.create_index(
        "uq_proposal_project_id_sent",
        "proposal",
        ["project_id"],
        unique=True,
        postgresql_where=sa.text("status = 2"),
    )
    op.create_table(
        "proposal_room",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("proposal_id", sa.Uuid(), nullable=False),
        sa.Column("source_room_id", sa.Uuid(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("client_visible", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposal.id"],
            name=op.f("fk_proposal_room_proposal_id_proposal"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposal_room")),
    )
    op.create_index(op.f("ix_proposal_room_proposal_id"), "proposal_room", ["proposal_id"])
    op.create_index(op.f("ix_proposal_room_tenant_id"), "proposal_room", ["tenant_id"])
    op.create_table(
        "proposal_line",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("proposal_id", sa.Uuid(), nullable=False),
        sa.Column("proposal_room_id", sa.Uuid(), nullable=False),
        sa.Column("source_line_id", sa.Uuid(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("manufacturer", sa.String(200), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price_minor", sa.BigInteger(), nullable=False),
        sa.Column("client_visible", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposal.id"],
            name=op.f("fk_proposal_line_proposal_id_proposal"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["proposal_room_id"],
            ["proposal_room.id"],
            name=op.f("fk_proposal_line_proposal_room_id_proposal_room"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposal_line")),
    )
    op.create_index(op.f("ix_proposal_line_proposal_id"), "proposal_line", ["proposal_id"])
    op.create_index(
        op.f("ix_proposal_line_proposal_room_id"), "proposal_line", ["proposal_room_id"]
    )
    op.create_index(op.f("ix_proposal_line_tenant_id"), "proposal_line", ["tenant_id"])
    op.create_table(
        "proposal_signature",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("proposal_id", sa.Uuid(), nullable=False),
        sa.Column("request_id", sa.String(100), nullable=False),
        sa.Column("signer_name", sa.String(200), nullable=False),
        sa.Column("signer_contact_id", sa.String(100), nullable=False),
        sa.Column("signer_email", sa.String(320), server_default="", nullable=False),
        sa.Column("signer_session_id", sa.String(100), server_default="", nullable=False),
        sa.Column("consent_text", sa.Text(), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ip", sa.String(64), nullable=False),
        sa.Column("user_agent", sa.String(500), nullable=False),
        sa.Column("content_sha256", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposal.id"],
            name=op.f("fk_proposal_signature_proposal_id_proposal"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposal_signature")),
        sa.UniqueConstraint("proposal_id", name=op.f("uq_proposal_signature_proposal_id")),
        sa.UniqueConstraint(
            "tenant_id", "request_id", name=op.f("uq_proposal_signature_tenant_id_request_id")
        ),
    )
    op.create_index(op.f("ix_proposal_signature_tenant_id"), "proposal_signature", ["tenant_id"])

    # -- status board: waiting items; budget: variations -----------------------------
    op.create_table(
        "waiting_item",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(50), nullable=False),
        sa.Column("key", sa.String(100), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("link", sa.String(500), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"], ["project.id"], name=op.f("fk_waiting_item_project_id_project")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waiting_item")),
        sa.UniqueConstraint(
            "tenant_id", "kind", "key", name=op.f("uq_waiting_item_tenant_id_kind_key")
        ),
    )
    op.create_index(
        "ix_waiting_item_project_id_open",
        "waiting_item",
        ["project_id"],
        postgresql_where=sa.text("resolved_at IS NULL"),
    )
    op.create_index(op.f("ix_waiting_item_tenant_id"), "waiting_item", ["tenant_id"])
    op.create_table(
        "variation",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("source", sa.String(50), nullable=False),
        sa.Column("source_id", sa.String(100), nullable=False),
        sa.Column("reference", sa.String(50), server_default="", nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"], ["project.id"], name=op.f("fk_variation_project_id_project")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_variation")),
        sa.UniqueConstraint(
            "tenant_id", "source", "source_id", name=op.f("uq_variation_tenant_id_source_source_id")
        ),
    )
    op.create_index(op.f("ix_variation_project_id"), "variation", ["project_id"])
    op.create_index(op.f("ix_variation_tenant_id"), "variation", ["tenant_id"])

    for table in TENANT_TABLES:
        enable_tenant_rls(table)
    _create_freeze_triggers()


def _create_freeze_triggers() -> None:
    # Statuses: 1 draft, 2 sent, 3 accepted, 4 superseded (domain_proposals.ProposalStatus).
    op.execute(
        """
        CREATE FUNCTION proposal_guard() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            mutable CONSTANT text[] := ARRAY['status', 'superseded_at', 'accepted_at', 'updated_at'];
        BEGIN
            IF TG_OP = 'DELETE' THEN
                IF OLD.status <> 1 THEN
                    RAISE EXCEPTION 'proposal % has been sent and cannot be deleted', OLD.id;
                END IF;
                RETURN OLD;
            END IF;
            IF OLD.status IN (3, 4) THEN
                RAISE EXCEPTION 'proposal % is accepted or superseded and cannot change', OLD.id;
            END IF;
            IF OLD.status = 2 AND (
                NEW.status NOT IN (2, 3, 4)
                OR (to_jsonb(NEW) - mutable) IS DISTINCT FROM (to_jsonb(OLD) - mutable)
            ) THEN
                RAISE EXCEPTION 'proposal % has been sent: its content is frozen', OLD.id;
            END IF;
            RETURN NEW;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER proposal_guard BEFORE UPDATE OR DELETE ON proposal "
        "FOR EACH ROW EXECUTE FUNCTION proposal_guard()"
    )
    # Snapshot rows change only while their proposal is a draft.
    op.execute(
        """
        CREATE FUNCTION proposal_snapshot_guard() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            owner uuid := CASE WHEN TG_OP = 'DELETE' THEN OLD.proposal_id ELSE NEW.proposal_id END;
            current_status integer;
        BEGIN
            SELECT status INTO current_status FROM proposal WHERE id = owner;
            -- No row: the proposal itself is being deleted (a draft: its guard allowed it).
            IF current_status IS NOT NULL AND current_status <> 1 THEN
                RAISE EXCEPTION 'proposal % has been sent: its rooms and lines are frozen', owner;
            END IF;
            IF TG_OP = 'UPDATE' AND OLD.proposal_id <> NEW.proposal_id THEN
                RAISE EXCEPTION 'snapshot rows cannot move between proposals';
            END IF;
            RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
        END $$
        """
    )
    for table in ("proposal_room", "proposal_line"):
        op.execute(
            f"CREATE TRIGGER {table}_guard BEFORE INSERT OR UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION proposal_snapshot_guard()"
        )
    op.execute(
        """
        CREATE FUNCTION proposal_signature_guard() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'a signature is evidence and cannot be changed or removed';
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER proposal_signature_guard BEFORE UPDATE OR DELETE ON proposal_signature "
        "FOR EACH ROW EXECUTE FUNCTION proposal_signature_guard()"
    )


def downgrade() -> None:
    for table in (
        "variation",
        "waiting_item",
        "proposal_signature",
        "proposal_line",
        "proposal_room",
        "proposal",
        "product_line",
        "room",
        "project_stage",
    ):
        op.drop_table(table)
    for function in ("proposal_guard", "proposal_snapshot_guard", "proposal_signature_guard"):
        op.execute(f"DROP FUNCTION {function}()")
    for column in (
        "approved_variations_minor",
        "service_contract",
        "visible_contact_ids",
        "project_manager_email",
        "project_manager_name",
        "project_manager_id",
        "currency",
    ):
        op.drop_column("project", column)
