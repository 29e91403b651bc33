"""Several bot instances on one database: leases decide who runs what.

The timers (sweeps, reminders, digests) run in the instance that holds the "scheduler"
lease; a Matrix account is served by the holder of its "matrix" lease. A holder renews its
lease every third of its time to live; when it dies, another instance takes over once the
lease has expired.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta

from storage.repository import Store

log = logging.getLogger("cjgbot.instance")

Clock = Callable[[], object]


def instance_id() -> str:
    """Unique per process, readable in operations: host, pid and a random part."""
    return f"{socket.gethostname()[:32]}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


class Lease:
    def __init__(
        self,
        store: Store,
        name: str,
        holder: str,
        clock: Callable[[], object],
        ttl: timedelta = timedelta(seconds=30),
    ) -> None:
        self.store = store
        self.name = name
        self.holder = holder
        self.clock = clock
        self.ttl = ttl
        self.held = False
        self._task: asyncio.Task[None] | None = None
        self._gained: list[Callable[[], Awaitable[None]]] = []

    def on_gained(self, callback: Callable[[], Awaitable[None]]) -> None:
        self._gained.append(callback)

    async def try_acquire(self) -> bool:
        was = self.held
        try:
            async with self.store.transaction() as repo:
                self.held = await repo.acquire_lease(
                    self.name,
                    self.holder,
                    self.clock(),
                    self.ttl,  # type: ignore[arg-type]
                )
        except Exception:  # the database is away: act as if the lease was lost
            log.warning("lease_check_failed", extra={"kind": self.name})
            self.held = False
        if self.held and not was:
            log.info("lease_gained", extra={"kind": self.name})
            for callback in self._gained:
                await callback()
        elif was and not self.held:
            log.warning("lease_lost", extra={"kind": self.name})
        return self.held

    async def _keep(self) -> None:
        while True:
            await self.try_acquire()
            await asyncio.sleep(self.ttl.total_seconds() / 3)

    def start(self) -> None:
        self._task = asyncio.create_task(self._keep())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self.held:
            async with self.store.transaction() as repo:
                await repo.release_lease(self.name, self.holder)
            self.held = False
