"""Uploaded brand images: the logo and the sign-in splash, sealed (AES-256-GCM)
in identity's own database and served at a content-addressed path.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

from services.chassis.migrations import enable_tenant_rls

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "brand_asset",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("content_type", sa.String(length=40), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("print_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('logo', 'splash')", name=op.f("ck_brand_asset_kind")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_brand_asset_tenant_id_tenant")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_brand_asset")),
        sa.UniqueConstraint(
            "tenant_id", "kind", "sha256", name=op.f("uq_brand_asset_tenant_id_kind_sha256")
        ),
    )
    op.create_index(op.f("ix_brand_asset_tenant_id"), "brand_asset", ["tenant_id"])
    enable_tenant_rls("brand_asset")


def downgrade() -> None:
    op.drop_table("brand_asset")
