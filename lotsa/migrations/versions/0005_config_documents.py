"""config documents: the versions admins publish of triage scripts, phrases, texts, canned replies,
referrals and queues

Revision ID: 0005_config_documents
Revises: 0004_audit
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_config_documents"
down_revision = "0004_audit"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "config_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_config_documents")),
        sa.UniqueConstraint("kind", "name", "version", name="uq_config_documents_version"),
    )


def downgrade() -> None:
    op.drop_table("config_documents")
