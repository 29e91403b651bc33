"""The first schema: conversations, handovers, room posts, audit, registrations.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "conversations",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("user_key", sa.String(64), nullable=False, unique=True),
        sa.Column("address", sa.LargeBinary, nullable=False),
        sa.Column("state", sa.LargeBinary, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=True),
        sa.Column("purge_at", UTCDateTime, nullable=True),
    )
    op.create_index("ix_conversations_expires_at", "conversations", ["expires_at"])
    op.create_index("ix_conversations_purge_at", "conversations", ["purge_at"])
    op.create_table(
        "handovers",
        sa.Column("number", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "conversation_id",
            sa.String(32),
            sa.ForeignKey("conversations.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("targets", sa.JSON, nullable=False),
        sa.Column("urgent", sa.Boolean, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("purge_at", UTCDateTime, nullable=True),
        sa.Column("purged", sa.Boolean, nullable=False),
        sa.Column("state", sa.LargeBinary, nullable=False),
        sa.Column("details", sa.LargeBinary, nullable=True),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_handovers_conversation_id", "handovers", ["conversation_id"])
    op.create_index("ix_handovers_status", "handovers", ["status"])
    op.create_index("ix_handovers_purge_at", "handovers", ["purge_at"])
    op.create_index("ix_handovers_open", "handovers", ["status", "created_at"])
    op.create_table(
        "room_posts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "handover_number",
            sa.Integer,
            sa.ForeignKey("handovers.number", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("room", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("message_ref", sa.String(255), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("redacted", sa.Boolean, nullable=False),
    )
    op.create_index("ix_room_posts_handover_number", "room_posts", ["handover_number"])
    op.create_table(
        "parent_messages",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "conversation_id",
            sa.String(32),
            sa.ForeignKey("conversations.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("message_ref", sa.LargeBinary, nullable=False),
        sa.Column("sent_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_parent_messages_conversation_id", "parent_messages", ["conversation_id"])
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("event", sa.String(48), nullable=False),
        sa.Column("actor_role", sa.String(16), nullable=False),
        sa.Column("organisation", sa.String(32), nullable=True),
        sa.Column("handover_number", sa.Integer, nullable=True),
    )
    op.create_index("ix_audit_events_at", "audit_events", ["at"])
    op.create_index("ix_audit_events_handover_number", "audit_events", ["handover_number"])
    op.create_table(
        "registrations",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("topic", sa.String(48), nullable=True),
        sa.Column("forwarded_to", sa.String(32), nullable=True),
        sa.Column("age_band", sa.String(16), nullable=False),
        sa.Column("sex", sa.String(16), nullable=False),
        sa.Column("place", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("source", sa.String(32), nullable=True),
    )
    op.create_index("ix_registrations_month", "registrations", ["month"])
    op.create_table(
        "settings",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(4096), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "settings",
        "registrations",
        "audit_events",
        "parent_messages",
        "room_posts",
        "handovers",
        "conversations",
    ):
        op.drop_table(table)
