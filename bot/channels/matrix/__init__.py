"""The Matrix channel (issue 4): parents in direct chats, loket and partner rooms, E2E.

Entry points for the service and the command line:
- `MatrixChannel.from_settings(settings)`: the channel; its `.rooms` is the app's
  RoomGateway and `.parents` the ParentGateway for the channel name "matrix".
- `run_matrix(app, channel)`: run the sync loop until cancelled or `channel.stop()`.
- `setup_rooms(settings)`: `cjgbot matrix setup`, creates or checks the rooms.
"""

from __future__ import annotations

import asyncio
import logging

from bot.app import App
from bot.instance import Lease

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
    "serve_matrix_while_leased",
    "setup_rooms",
]

log = logging.getLogger("cjgbot.matrix")


async def run_matrix(app: App, channel: MatrixChannel) -> None:
    """Register the parent gateway and run the channel; closes the client at the end."""
    app.add_parent_channel(CHANNEL, channel.parents)
    try:
        await channel.run(app)
    finally:
        app.parents.pop(CHANNEL, None)
        await channel.close()


async def serve_matrix_while_leased(app: App, channel: MatrixChannel, lease: Lease) -> None:
    """Serve the Matrix account whenever this instance holds its lease (several instances).

    The E2E store (`store_path`) must be shared by the instances (one volume): the lease
    makes sure that only one of them uses it at a time. Returns when the channel ends by
    itself (e.g. a refused login); stops serving as soon as the lease is lost.
    """
    app.dispatcher.rooms_ready = lambda: lease.held and channel.ready.is_set()
    app.dispatcher.channel_ready = lambda name: name != CHANNEL or app.dispatcher.rooms_ready()
    while True:
        await lease.wait_for(held=True)
        log.info("matrix_serving", extra={"channel": CHANNEL})
        serving = asyncio.create_task(run_matrix(app, channel))
        lost = asyncio.create_task(lease.wait_for(held=False))
        await asyncio.wait({serving, lost}, return_when=asyncio.FIRST_COMPLETED)
        if serving.done():
            lost.cancel()
            serving.result()  # raises what stopped the channel
            return
        log.warning("matrix_lease_lost_stop_serving", extra={"channel": CHANNEL})
        await channel.stop()
        await asyncio.gather(serving, return_exceptions=True)
        channel.reset()
