"""An API token's idempotency key is unique within its tenant, not across all:
one integrator reusing a request id must not block another's token.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_constraint("uq_api_token_request_id", "api_token", type_="unique")
    op.create_unique_constraint(
        "uq_api_token_tenant_id_request_id", "api_token", ["tenant_id", "request_id"]
    )


def downgrade() -> None:
    op.drop_constraint("uq_api_token_tenant_id_request_id", "api_token", type_="unique")
    op.create_unique_constraint("uq_api_token_request_id", "api_token", ["request_id"])
