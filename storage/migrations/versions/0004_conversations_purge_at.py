"""Conversations: drop purge_at, which was never set (idle conversations go by expires_at).

Every saved message rewrote its index entry: one page more to write per message.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.drop_index("ix_conversations_purge_at")
        batch.drop_column("purge_at")


def downgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("purge_at", UTCDateTime, nullable=True))
        batch.create_index("ix_conversations_purge_at", ["purge_at"])
