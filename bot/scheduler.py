"""Timers: APScheduler wakes the sweepers; deadlines themselves are database rows."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.app import App
from bot.retention import Sweeper

log = logging.getLogger("cjgbot.scheduler")


async def _reminders(app: App, may_run: Callable[[], bool]) -> None:
    if not may_run():
        return
    try:
        await app.tick()
    except Exception:  # a failed run must not stop the timers; the next one retries
        log.exception("reminders_failed")


async def _sweep(sweeper: Sweeper, may_run: Callable[[], bool]) -> None:
    if not may_run():
        return
    try:
        await sweeper.sweep()
    except Exception:
        log.exception("sweep_failed")


def start_scheduler(
    app: App,
    sweeper: Sweeper,
    interval_minutes: float,
    may_run: Callable[[], bool] = lambda: True,
) -> AsyncIOScheduler:
    """Reminders and the sweep, every `interval_minutes` and once at start-up.

    `may_run` is asked before each run: with several instances only the holder of the
    scheduler lease does the work, so it happens exactly once.
    """
    scheduler = AsyncIOScheduler(timezone=UTC)
    for job_id, function, argument in (("reminders", _reminders, app), ("sweep", _sweep, sweeper)):
        scheduler.add_job(
            function,
            "interval",
            args=[argument, may_run],
            minutes=interval_minutes,
            next_run_time=datetime.now(UTC),  # once at start-up too
            max_instances=1,
            coalesce=True,
            id=job_id,
        )
    scheduler.start()
    return scheduler
