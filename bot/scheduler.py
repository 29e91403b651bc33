"""Timers: APScheduler wakes the sweepers; deadlines themselves are database rows."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.app import App

log = logging.getLogger("cjgbot.scheduler")


async def _tick(app: App) -> None:
    try:
        await app.tick()
    except Exception:  # a failed sweep must not stop the timers; the next one retries
        log.exception("tick_failed")


def start_scheduler(app: App, interval_minutes: float) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone=UTC)
    scheduler.add_job(
        _tick,
        "interval",
        args=[app],
        minutes=interval_minutes,
        next_run_time=datetime.now(UTC),  # once at start-up too
        max_instances=1,
        coalesce=True,
        id="tick",
    )
    scheduler.start()
    return scheduler
