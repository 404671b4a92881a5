"""handoff: counsellor skills and presence, line rank, private notes, wrap-ups

Revision ID: 0002_handoff
Revises: 0001
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_handoff"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("staff_users") as batch:
        batch.add_column(sa.Column("languages", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("queues", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("max_chats", sa.Integer(), nullable=False, server_default="3"))
        batch.add_column(sa.Column("presence", sa.String(16), nullable=False, server_default="away"))
        batch.add_column(sa.Column("console_seen_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("line_rank", sa.Integer(), nullable=False, server_default="1"))
        batch.create_index("ix_conversations_queue_claimed", ["queue", "claimed_at"], unique=False)
    op.create_table(
        "conversation_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"], ondelete="CASCADE",
                                name=op.f("fk_conversation_notes_conversation_id_conversations")),
        sa.ForeignKeyConstraint(["author_id"], ["staff_users.id"],
                                name=op.f("fk_conversation_notes_author_id_staff_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation_notes")),
    )
    op.create_index(op.f("ix_conversation_notes_conversation_id"), "conversation_notes", ["conversation_id"])
    op.create_table(
        "wrapups",
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("counsellor_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("referrals", sa.JSON(), nullable=False),
        sa.Column("needs", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"], ondelete="CASCADE",
                                name=op.f("fk_wrapups_conversation_id_conversations")),
        sa.ForeignKeyConstraint(["counsellor_id"], ["staff_users.id"],
                                name=op.f("fk_wrapups_counsellor_id_staff_users")),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_wrapups")),
    )


def downgrade() -> None:
    op.drop_table("wrapups")
    op.drop_index(op.f("ix_conversation_notes_conversation_id"), table_name="conversation_notes")
    op.drop_table("conversation_notes")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_index("ix_conversations_queue_claimed")
        batch.drop_column("line_rank")
    with op.batch_alter_table("staff_users") as batch:
        for column in ("console_seen_at", "presence", "max_chats", "queues", "languages"):
            batch.drop_column(column)
