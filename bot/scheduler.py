"""Timers: APScheduler wakes the sweepers; deadlines themselves are database rows."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.app import App
from bot.retention import Sweeper

log = logging.getLogger("cjgbot.scheduler")

# The first run after a start: soon (deletions that fell due while the bot was down), but
# after the first parents and health checks (its first statements are compiled then).
FIRST_RUN_SECONDS = 5.0


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
    """Reminders and the sweep, every `interval_minutes`, the first time soon after
    start-up (`FIRST_RUN_SECONDS`, or the interval if that is shorter).

    `may_run` is asked before each run: with several instances only the holder of the
    scheduler lease does the work, so it happens exactly once.
    """
    scheduler = AsyncIOScheduler(timezone=UTC)
    first_run = datetime.now(UTC) + timedelta(
        seconds=min(FIRST_RUN_SECONDS, interval_minutes * 60)
    )
    for job_id, function, argument in (("reminders", _reminders, app), ("sweep", _sweep, sweeper)):
        scheduler.add_job(
            function,
            "interval",
            args=[argument, may_run],
            minutes=interval_minutes,
            next_run_time=first_run,
            max_instances=1,
            coalesce=True,
            id=job_id,
        )
    scheduler.start()
    return scheduler
