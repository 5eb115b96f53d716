"""Payment schedules over years: each instalment has the budget year it falls due in (``due_year``), what
it waits on (``waits_on``: the conditions the policy text states, in words) and whether the follow-up
reports due before it must have been handed in (``reports_required``).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("due_year", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("waits_on", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("reports_required", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_column("reports_required")
        batch_op.drop_column("waits_on")
        batch_op.drop_column("due_year")
