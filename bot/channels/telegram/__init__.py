"""The Telegram channel (python-telegram-bot v22): a thin adapter between Telegram and the app.

`TelegramChannel(app, settings)` registers the "telegram" parent gateway; `start()`/`stop()`
run it by long polling or webhook; its gateway deletes bot messages with personal data when
the app's sweeper says so.
"""

from .channel import COMMANDS, TelegramChannel, run_telegram
from .gateway import TelegramParents
from .settings import CHANNEL, RateLimits, TelegramSettings, telegram_settings

__all__ = [
    "CHANNEL",
    "COMMANDS",
    "RateLimits",
    "TelegramChannel",
    "TelegramParents",
    "TelegramSettings",
    "run_telegram",
    "telegram_settings",
]
