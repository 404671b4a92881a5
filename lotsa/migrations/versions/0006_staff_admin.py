"""staff admin: counsellors' phone numbers encrypted, sessions stamped with the secret key's tag,
the unused lock-out columns dropped

Revision ID: 0006_staff_admin
Revises: 0004_audit

`lotsa db upgrade` passes the secret key (alembic attribute `secret_key`) so that a phone number
already stored in plain text is encrypted on the way; without the key such a database is refused
rather than left with plain numbers or losing them.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_staff_admin"
down_revision = "0005_config_documents"
branch_labels = None
depends_on = None


def _sealed_phones() -> list[tuple[int, bytes]]:
    """The plain-text numbers, encrypted; checked before any schema change (SQLite's DDL is not
    rolled back), so a refusal leaves the database as it was."""
    from lotsa.crypto import Keyring

    rows = op.get_bind().execute(sa.text("SELECT id, phone FROM staff_users WHERE phone IS NOT NULL")).all()
    if not rows:
        return []
    config = op.get_context().config
    secret = config.attributes.get("secret_key") if config is not None else None
    if not secret:
        raise RuntimeError("staff phone numbers are stored in plain text and must be encrypted: "
                           "set LOTSA_SECRET_KEY and run `lotsa db upgrade` again")
    keyring = Keyring(secret)
    return [(user_id, keyring.seal_phone(phone)) for user_id, phone in rows]


def upgrade() -> None:
    sealed = _sealed_phones()
    with op.batch_alter_table("staff_users") as batch:
        batch.add_column(sa.Column("phone_sealed", sa.LargeBinary(), nullable=True))
    for user_id, phone in sealed:
        op.get_bind().execute(sa.text("UPDATE staff_users SET phone_sealed = :sealed WHERE id = :id"),
                              {"sealed": phone, "id": user_id})
    with op.batch_alter_table("staff_users") as batch:
        batch.drop_column("phone")
        batch.drop_column("failed_logins")
        batch.drop_column("locked_until")
    with op.batch_alter_table("staff_sessions") as batch:
        batch.add_column(sa.Column("key_tag", sa.String(length=16), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("staff_sessions") as batch:
        batch.drop_column("key_tag")
    with op.batch_alter_table("staff_users") as batch:
        batch.add_column(sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("phone", sa.String(length=32), nullable=True))
        batch.drop_column("phone_sealed")
