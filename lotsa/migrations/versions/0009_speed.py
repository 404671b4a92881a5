"""outbox items by conversation: releasing a conversation's held items when the person writes (on
every inbound SMS and Telegram message) read every pending item of the whole outbox without it

Revision ID: 0009_speed
Revises: 0008_supervisor_alerts
"""
from __future__ import annotations

from alembic import op

revision = "0009_speed"
down_revision = "0008_supervisor_alerts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_outbox_conversation_state", "outbox", ["conversation_id", "state"])


def downgrade() -> None:
    op.drop_index("ix_outbox_conversation_state", table_name="outbox")
