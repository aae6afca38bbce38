"""The outbox is published in the order its rows were written (outbox_message.seq),
not by created_at, which ties within a transaction and puts a transaction that
began earlier but wrote later first.

Revision ID: 0013
Revises: 0012
"""

from services.chassis.migrations import add_outbox_sequence, drop_outbox_sequence

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_outbox_sequence()


def downgrade() -> None:
    drop_outbox_sequence()
