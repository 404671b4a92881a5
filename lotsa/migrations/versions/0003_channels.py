"""channels: contact preferences for safe contact, a counsellor's phone for voice, outbox leases,
retention marks, contact blocks

Revision ID: 0003_channels
Revises: 0002_handoff
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_channels"
down_revision = "0002_handoff"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        batch.add_column(sa.Column("prefs", sa.JSON(), nullable=False, server_default="{}"))
        batch.add_column(sa.Column("blocked_until", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("staff_users") as batch:
        batch.add_column(sa.Column("phone", sa.String(length=32), nullable=True))
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("leased_until", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("purged_at")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("leased_until")
    with op.batch_alter_table("staff_users") as batch:
        batch.drop_column("phone")
    with op.batch_alter_table("contacts") as batch:
        batch.drop_column("blocked_until")
        batch.drop_column("prefs")
