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
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta

from storage.repository import Store

log = logging.getLogger("cjgbot.instance")

Clock = Callable[[], object]
MATRIX_LEASE = "matrix"


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
        self._held = False
        self._valid_until = 0.0  # monotonic: past it, act as if the lease was lost
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._gained: list[Callable[[], Awaitable[None]]] = []

    @property
    def held(self) -> bool:
        """Held, and not yet past the time another instance could take it over.

        An instance whose event loop stalled (or was stopped) longer than the lease lives
        sees False here at once, before its next renewal says so.
        """
        return self._held and time.monotonic() < self._valid_until

    def _set(self, held: bool) -> None:
        if held:
            self._valid_until = time.monotonic() + self.ttl.total_seconds() * 0.9
        if held != self._held:
            self._held = held
            self._changed.set()
            self._changed = asyncio.Event()

    async def wait_for(self, held: bool) -> None:
        """Until the lease is (or is no longer) held by this instance."""
        while self._held != held:
            await self._changed.wait()

    def on_gained(self, callback: Callable[[], Awaitable[None]]) -> None:
        self._gained.append(callback)

    async def try_acquire(self) -> bool:
        was = self._held
        try:
            async with self.store.transaction() as repo:
                held = await repo.acquire_lease(
                    self.name,
                    self.holder,
                    self.clock(),
                    self.ttl,  # type: ignore[arg-type]
                )
        except Exception:  # the database is away: act as if the lease was lost
            log.warning("lease_check_failed", extra={"kind": self.name})
            held = False
        self._set(held)
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
        if self._held:
            async with self.store.transaction() as repo:
                await repo.release_lease(self.name, self.holder)
            self._set(False)
