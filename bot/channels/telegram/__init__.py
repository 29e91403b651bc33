"""The Telegram channel (python-telegram-bot v22): a thin adapter between Telegram and the app.

`TelegramChannel(app, settings)` registers the "telegram" parent gateway; `start()`/`stop()`
run it by long polling or webhook; `sweep()` deletes bot messages with personal data in time.
"""

from .channel import COMMANDS, TelegramChannel, run_telegram
from .cleanup import delete_personal_messages
from .gateway import TelegramParents
from .settings import CHANNEL, RateLimits, TelegramSettings, telegram_settings

__all__ = [
    "CHANNEL",
    "COMMANDS",
    "RateLimits",
    "TelegramChannel",
    "TelegramParents",
    "TelegramSettings",
    "delete_personal_messages",
    "run_telegram",
    "telegram_settings",
]
