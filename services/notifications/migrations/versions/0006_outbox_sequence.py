"""outbox_message.seq: the relay publishes in the order rows were written
(chassis.migrations.add_outbox_sequence says why).

Revision ID: 0006
Revises: 0005
"""

from services.chassis.migrations import add_outbox_sequence, drop_outbox_sequence

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_outbox_sequence()


def downgrade() -> None:
    drop_outbox_sequence()
