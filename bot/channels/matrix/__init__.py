"""The Matrix channel (issue 4): parents in direct chats, loket and partner rooms, E2E.

Entry points for the service and the command line:
- `MatrixChannel.from_settings(settings)`: the channel; its `.rooms` is the app's
  RoomGateway and `.parents` the ParentGateway for the channel name "matrix".
- `run_matrix(app, channel)`: run the sync loop until cancelled or `channel.stop()`.
- `setup_rooms(settings)`: `cjgbot matrix setup`, creates or checks the rooms.
"""

from __future__ import annotations

from bot.app import App

from .channel import CHANNEL, MatrixChannel, MatrixLoginError
from .gateways import MatrixParents, MatrixRooms
from .settings import MatrixSettings, configured_rooms, matrix_settings
from .setup import RoomReport, SetupReport, invite_member, setup_rooms

__all__ = [
    "CHANNEL",
    "MatrixChannel",
    "MatrixLoginError",
    "MatrixParents",
    "MatrixRooms",
    "MatrixSettings",
    "RoomReport",
    "SetupReport",
    "configured_rooms",
    "invite_member",
    "matrix_settings",
    "run_matrix",
    "setup_rooms",
]


async def run_matrix(app: App, channel: MatrixChannel) -> None:
    """Register the parent gateway and run the channel; closes the client at the end."""
    app.add_parent_channel(CHANNEL, channel.parents)
    try:
        await channel.run(app)
    finally:
        await channel.close()
