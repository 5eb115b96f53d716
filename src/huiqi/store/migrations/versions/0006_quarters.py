"""Periods below a year: a registry fact may be a quarter's value (``facts.quarter``), a call may be for a
quarter of its year (``calls.quarter``), and an award belongs to a quarter (``awards.quarter``: 1–4, 0 for a
yearly award) — unique per entity, rule, year and quarter, so four quarterly awards of one rule in one year
can be stored and a second award for the same quarter still cannot.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("facts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("quarter", sa.Integer(), nullable=True))
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.add_column(sa.Column("quarter", sa.Integer(), nullable=True))
    with op.batch_alter_table("awards", schema=None) as batch_op:
        batch_op.add_column(sa.Column("quarter", sa.Integer(), nullable=False, server_default=sa.text("0")))
        batch_op.drop_constraint(op.f("uq_awards_entity_id_rule_ref_period"), type_="unique")
        batch_op.create_unique_constraint(
            op.f("uq_awards_entity_id_rule_ref_period_quarter"), ["entity_id", "rule_ref", "period", "quarter"]
        )


def downgrade() -> None:
    with op.batch_alter_table("awards", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("uq_awards_entity_id_rule_ref_period_quarter"), type_="unique")
        batch_op.create_unique_constraint(
            op.f("uq_awards_entity_id_rule_ref_period"), ["entity_id", "rule_ref", "period"]
        )
        batch_op.drop_column("quarter")
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_column("quarter")
    with op.batch_alter_table("facts", schema=None) as batch_op:
        batch_op.drop_column("quarter")
