"""statistics: anonymous rows that survive retention; the wrap-up's triage review

Revision ID: 0007_statistics
Revises: 0004_audit
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_statistics"
down_revision = "0006_staff_admin"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "statistics_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=True),
        sa.Column("cell_key", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("hour", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("group", sa.String(16), nullable=False),
        sa.Column("flags", sa.JSON(), nullable=False),
        sa.Column("needs", sa.JSON(), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("queue", sa.String(32), nullable=False),
        sa.Column("risk", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("referrals", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("first_time", sa.Boolean(), nullable=False),
        sa.Column("answer", sa.String(24), nullable=False),
        sa.Column("wait_seconds", sa.Integer(), nullable=True),
        sa.Column("reviewed_group", sa.String(16), nullable=True),
        sa.Column("reviewed_flags", sa.JSON(), nullable=True),
        sa.Column("feedback_helped", sa.String(8), nullable=True),
        sa.Column("feedback_again", sa.String(8), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_statistics_records")),
        sa.UniqueConstraint("conversation_id", name=op.f("uq_statistics_records_conversation_id")),
    )
    op.create_index(op.f("ix_statistics_records_day"), "statistics_records", ["day"])
    with op.batch_alter_table("wrapups") as batch:
        batch.add_column(sa.Column("group", sa.String(16), nullable=True))
        batch.add_column(sa.Column("flags", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("wrapups") as batch:
        batch.drop_column("flags")
        batch.drop_column("group")
    op.drop_index(op.f("ix_statistics_records_day"), table_name="statistics_records")
    op.drop_table("statistics_records")
