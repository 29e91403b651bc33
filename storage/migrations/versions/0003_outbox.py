"""Outbox: room posts, redactions and parent notices waiting to be delivered.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("target", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("handover_number", sa.Integer, nullable=True),
        sa.Column("payload", sa.LargeBinary, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("not_before", UTCDateTime, nullable=True),
        sa.Column("claimed_until", UTCDateTime, nullable=True),
    )
    op.create_index("ix_outbox_target", "outbox", ["target"])
    op.create_index("ix_outbox_handover_number", "outbox", ["handover_number"])


def downgrade() -> None:
    op.drop_index("ix_outbox_handover_number", "outbox")
    op.drop_index("ix_outbox_target", "outbox")
    op.drop_table("outbox")
