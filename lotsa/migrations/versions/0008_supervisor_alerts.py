"""supervisor alerts: one row per alert, so several workers raise each alert once

Revision ID: 0008_supervisor_alerts
Revises: 0004_audit
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_supervisor_alerts"
down_revision = "0007_statistics"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "supervisor_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"], ondelete="CASCADE",
                                name=op.f("fk_supervisor_alerts_conversation_id_conversations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supervisor_alerts")),
        sa.UniqueConstraint("conversation_id", "reason", name=op.f("uq_supervisor_alerts_conversation_id")),
    )


def downgrade() -> None:
    op.drop_table("supervisor_alerts")
