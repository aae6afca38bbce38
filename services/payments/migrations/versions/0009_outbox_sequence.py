"""outbox_message.seq: the relay publishes in the order rows were written
(chassis.migrations.add_outbox_sequence says why).

Revision ID: 0009
Revises: 0008
"""

from services.chassis.migrations import add_outbox_sequence, drop_outbox_sequence

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_outbox_sequence()


def downgrade() -> None:
    drop_outbox_sequence()
