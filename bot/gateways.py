"""What the app needs from the channels: sending to parents and posting in rooms.

Each channel adapter implements these small protocols; the app never knows which one.
"""

from __future__ import annotations

from typing import Protocol

from flows.actions import Reply


class ParentGateway(Protocol):
    async def send(self, address: str, reply: Reply) -> str | None:
        """Send a reply to a parent's chat; return the message id (or None)."""


class RoomGateway(Protocol):
    async def post(
        self, room: str, text: str, kind: str, handover: int | None, mention: str | None = None
    ) -> str | None:
        """Post in a logical room ('loket' or a partner id); return the message id.

        `mention` is the Matrix id of a person to notify (the loketmedewerker on duty).
        """

    async def redact(self, room: str, message_ref: str) -> None:
        """Remove an earlier post of the bot."""


class DeletingParentGateway(ParentGateway, Protocol):
    """A parent channel that can remove the bot's own messages later (Telegram, Matrix)."""

    async def delete(self, message_ref: str) -> int:
        """Delete one earlier bot reply (a ref from `send`); returns how many messages went.

        Raises on a passing (network) problem, so that the sweeper tries again later.
        """


class PurgingRoomGateway(RoomGateway, Protocol):
    """A room channel that can also purge redacted events from the server (Synapse admin)."""

    async def purge(self, room: str) -> None:
        """Ask the server to purge the room's history up to now (redacted events included)."""
