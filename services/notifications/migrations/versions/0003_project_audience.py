"""Notifications keeps its own copy of each project's audience (the chassis
table): mail about a project goes only to the contacts it is for.

Revision ID: 0003
Revises: 0002
"""

from services.chassis.migrations import create_project_audience_table, drop_project_audience_table

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_project_audience_table()


def downgrade() -> None:
    drop_project_audience_table()
