"""The procedure as data: a call records the procedure its policy file states (``procedure``) and every field
the official set otherwise (``deviations``). Versions: an application freezes the award ledger its evaluation
read (``ledger_used``), so that it can be replayed with the version it used.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.add_column(sa.Column("procedure", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("deviations", sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ledger_used", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.drop_column("ledger_used")
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_column("deviations")
        batch_op.drop_column("procedure")
