"""The app's gateways on Matrix: replies to parents and posts in the loket/partner rooms."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from flows.actions import Reply

from .render import parent_reply_content, room_post_content

if TYPE_CHECKING:
    from .channel import MatrixChannel

log = logging.getLogger("cjgbot.matrix")

REF_SEPARATOR = " "  # never part of a room id or an event id
ROOM_REDACT_GIVE_UP_S = 600.0  # then the redaction raises and the sweeper tries again
PARENT_DELETE_GIVE_UP_S = 30.0


def parent_ref(room_id: str, event_id: str) -> str:
    return f"{room_id}{REF_SEPARATOR}{event_id}"


class MatrixParents:
    """ParentGateway (and DeletingParentGateway) for parents' direct chats with the bot.

    The address is the room id of the chat. A message ref is 'room_id event_id', so that
    the sweeper can redact a personal reply later with the ref alone.
    """

    def __init__(self, channel: MatrixChannel) -> None:
        self.channel = channel

    async def send(self, address: str, reply: Reply) -> str | None:
        self.channel.remember_buttons(address, reply.buttons)
        event_id = await self.channel.send(address, parent_reply_content(reply), "reply")
        return None if event_id is None else parent_ref(address, event_id)

    async def delete(self, message_ref: str) -> int:
        """Redact one earlier reply; 0 when it cannot be (left room, unknown ref)."""
        room_id, _, event_id = message_ref.partition(REF_SEPARATOR)
        if not room_id or not event_id:
            return 0
        done = await self.channel.redact(room_id, event_id, PARENT_DELETE_GIVE_UP_S)
        return int(done)


class MatrixRooms:
    """RoomGateway (and PurgingRoomGateway): logical rooms are Matrix rooms from the config."""

    def __init__(self, channel: MatrixChannel) -> None:
        self.channel = channel

    def room_id(self, room: str) -> str | None:
        room_id = self.channel.room_ids.get(room)
        if room_id is None:
            log.error("matrix_room_not_configured", extra={"room": room})
        return room_id

    async def post(
        self, room: str, text: str, kind: str, handover: int | None, mention: str | None = None
    ) -> str | None:
        room_id = self.room_id(room)
        if room_id is None:
            return None
        pill = (mention, self.channel.display_name(room_id, mention)) if mention else None
        content = room_post_content(text, kind, pill)
        return await self.channel.send(room_id, content, f"post_{kind}")

    async def redact(self, room: str, message_ref: str) -> None:
        room_id = self.room_id(room)
        if room_id is not None:
            await self.channel.redact(room_id, message_ref, ROOM_REDACT_GIVE_UP_S)

    async def purge(self, room: str) -> None:
        """Purge the room's history on Synapse (needs channels.matrix.admin_token)."""
        room_id = self.room_id(room)
        if room_id is not None:
            await self.channel.purge_history(room_id)
