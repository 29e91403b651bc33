"""The app's gateways on Matrix: replies to parents and posts in the loket/partner rooms."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from flows.actions import Reply

from .render import parent_reply_content, room_post_content

if TYPE_CHECKING:
    from .channel import MatrixChannel

log = logging.getLogger("cjgbot.matrix")


class MatrixParents:
    """ParentGateway: the address is the room id of the parent's direct chat with the bot."""

    def __init__(self, channel: MatrixChannel) -> None:
        self.channel = channel

    async def send(self, address: str, reply: Reply) -> str | None:
        self.channel.remember_buttons(address, reply.buttons)
        return await self.channel.send(address, parent_reply_content(reply), "reply")


class MatrixRooms:
    """RoomGateway: logical rooms ('loket', partner ids) are Matrix rooms from the config."""

    def __init__(self, channel: MatrixChannel) -> None:
        self.channel = channel

    def room_id(self, room: str) -> str | None:
        room_id = self.channel.room_ids.get(room)
        if room_id is None:
            log.error("matrix_room_not_configured", extra={"room": room})
        return room_id

    async def post(self, room: str, text: str, kind: str, handover: int | None) -> str | None:
        room_id = self.room_id(room)
        if room_id is None:
            return None
        return await self.channel.send(room_id, room_post_content(text, kind), f"post_{kind}")

    async def redact(self, room: str, message_ref: str) -> None:
        room_id = self.room_id(room)
        if room_id is not None:
            await self.channel.redact(room_id, message_ref)
