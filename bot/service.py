"""`cjgbot run`: every channel the configuration enables, plus the timers."""

from __future__ import annotations

import sys

from bot.channels.console import CHANNEL, make_console, run_console
from bot.channels.telegram import TelegramChannel, telegram_settings
from bot.config import Settings
from bot.retention import Sweeper
from bot.runtime import build_runtime
from bot.scheduler import start_scheduler


async def run_service(settings: Settings) -> None:
    names = {p.id: p.name for p in settings.partners}
    parent, rooms = make_console(names, sys.stdout)
    runtime = await build_runtime(settings, rooms)
    runtime.app.add_parent_channel(CHANNEL, parent)
    telegram_config = telegram_settings(settings)  # ConfigError names the key, never the value
    telegram = TelegramChannel(runtime.app, telegram_config) if telegram_config else None
    if telegram is not None:
        await telegram.start()
    sweeper = Sweeper(runtime.app, settings.retention.audit_days)
    scheduler = start_scheduler(runtime.app, sweeper, settings.retention.sweep_interval_minutes)
    try:
        await run_console(runtime.app, parent, sys.stdin, sys.stdout, sys.stdin.isatty())
    finally:
        scheduler.shutdown(wait=False)
        if telegram is not None:
            await telegram.stop()  # answers what was already received
        await runtime.close()
