"""Initial schema of documents, with the chassis tables and row-level security.

Revision ID: 0001
Revises:
"""

from alembic import op

from services.chassis.migrations import create_chassis_tables, enable_tenant_rls

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# `blob` is read across tenants by key rotation: no RLS (see README).
TENANT_TABLES = ("project_ref", "folder", "document", "document_version", "document_audit")


def upgrade() -> None:
    create_chassis_tables()
    op.execute(
        """
        CREATE TABLE blob (
            id VARCHAR(32) NOT NULL,
            tenant_id UUID NOT NULL,
            key_id VARCHAR(64) NOT NULL,
            size_bytes BIGINT NOT NULL,
            created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
            CONSTRAINT pk_blob PRIMARY KEY (id)
        )
        """
    )
    op.execute(
        """
        CREATE INDEX ix_blob_key_id ON blob (key_id)
        """
    )
    op.execute(
        """
        CREATE INDEX ix_blob_tenant_id ON blob (tenant_id)
        """
    )
    op.execute(
        """
        CREATE TABLE folder (
            id UUID NOT NULL,
            tenant_id UUID NOT NULL,
            project_id UUID NOT NULL,
            request_id VARCHAR(100),
            name VARCHAR(100) NOT NULL,
            position INTEGER NOT NULL,
            CONSTRAINT pk_folder PRIMARY KEY (id),
            CONSTRAINT uq_folder_tenant_id_project_id_name UNIQUE (tenant_id, project_id, name),
            CONSTRAINT uq_folder_tenant_id_request_id UNIQUE (tenant_id, request_id)
        )
        """
    )
    op.execute(
        """
        CREATE INDEX ix_folder_project_id ON folder (project_id)
        """
    )
    op.execute(
        """
        CREATE INDEX ix_folder_tenant_id ON folder (tenant_id)
        """
    )
    op.execute(
        """
        CREATE TABLE project_ref (
            id UUID NOT NULL,
            tenant_id UUID NOT NULL,
            customer_id UUID NOT NULL,
            name VARCHAR(200) NOT NULL,
            created_at TIMESTAMP WITH TIME ZONE NOT NULL,
            CONSTRAINT pk_project_ref PRIMARY KEY (id)
        )
        """
    )
    op.execute(
        """
        CREATE INDEX ix_project_ref_customer_id ON project_ref (customer_id)
        """
    )
    op.execute(
        """
        CREATE INDEX ix_project_ref_tenant_id ON project_ref (tenant_id)
        """
    )
    op.execute(
        """
        CREATE TABLE document (
            id UUID NOT NULL,
            tenant_id UUID NOT NULL,
            project_id UUID NOT NULL,
            folder_id UUID,
            request_id VARCHAR(100) NOT NULL,
            title VARCHAR(200) NOT NULL,
            description TEXT NOT NULL,
            client_visible BOOLEAN NOT NULL,
            current_version INTEGER NOT NULL,
            created_by VARCHAR(100) NOT NULL,
            created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
            deleted_at TIMESTAMP WITH TIME ZONE,
            deleted_by VARCHAR(100),
            visibility_changed_by VARCHAR(100) NOT NULL,
            visibility_changed_at TIMESTAMP WITH TIME ZONE,
            CONSTRAINT pk_document PRIMARY KEY (id),
            CONSTRAINT uq_document_tenant_id_request_id UNIQUE (tenant_id, request_id),
            CONSTRAINT fk_document_folder_id_folder FOREIGN KEY(folder_id) REFERENCES folder (id)
        )
        """
    )
    op.execute(
        """
        CREATE INDEX ix_document_project_id ON document (project_id)
        """
    )
    op.execute(
        """
        CREATE INDEX ix_document_tenant_id ON document (tenant_id)
        """
    )
    op.execute(
        """
        CREATE TABLE document_audit (
            id UUID NOT NULL,
            tenant_id UUID NOT NULL,
            document_id UUID NOT NULL,
            action VARCHAR(40) NOT NULL,
            actor VARCHAR(100) NOT NULL,
            detail TEXT NOT NULL,
            at TIMESTAMP WITH TIME ZONE NOT NULL,
            CONSTRAINT pk_document_audit PRIMARY KEY (id),
            CONSTRAINT fk_document_audit_document_id_document FOREIGN KEY(document_id) REFERENCES document (id)
        )
        """
    )
    op.execute(
        """
        CREATE INDEX ix_document_audit_document_id ON document_audit (document_id)
        """
    )
    op.execute(
        """
        CREATE INDEX ix_document_audit_tenant_id ON document_audit (tenant_id)
        """
    )
    op.execute(
        """
        CREATE TABLE document_version (
            id UUID NOT NULL,
            tenant_id UUID NOT NULL,
            document_id UUID NOT NULL,
            request_id VARCHAR(100) NOT NULL,
            number INTEGER NOT NULL,
            filename VARCHAR(200) NOT NULL,
            content_type VARCHAR(200) NOT NULL,
            size_bytes BIGINT NOT NULL,
            sha256 VARCHAR(64) NOT NULL,
            blob_id VARCHAR(32) NOT NULL,
            uploaded_by VARCHAR(100) NOT NULL,
            uploaded_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
            CONSTRAINT pk_document_version PRIMARY KEY (id),
            CONSTRAINT uq_document_version_document_id_number UNIQUE (document_id, number),
            CONSTRAINT uq_document_version_tenant_id_request_id UNIQUE (tenant_id, request_id),
            CONSTRAINT fk_document_version_document_id_document FOREIGN KEY(document_id) REFERENCES document (id)
        )
        """
    )
    op.execute(
        """
        CREATE INDEX ix_document_version_document_id ON document_version (document_id)
        """
    )
    op.execute(
        """
        CREATE INDEX ix_document_version_tenant_id ON document_version (tenant_id)
        """
    )
    for table in TENANT_TABLES:
        enable_tenant_rls(table)


def downgrade() -> None:
    raise RuntimeError("the initial schema cannot be downgraded; drop the database instead")
