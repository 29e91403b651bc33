"""The Telegram channel: python-telegram-bot in front of the app, by long polling or webhook.

Updates are translated (`updates.route`) and queued per chat (`inbox.ChatInbox`); the app
runs the conversation and answers through `gateway.TelegramParents`. Groups are left at
once; buttons are inline keyboards; the bot's messages with personal data are deleted in
time (`cleanup`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from datetime import timedelta
from typing import Any

from telegram import BotCommand, Update
from telegram.error import InvalidToken, TelegramError
from telegram.ext import Application, ContextTypes, TypeHandler

from bot.app import App
from bot.config import ConfigError, Settings
from flows.events import ParentEvent, ParentText, ParentUnsupported

from .gateway import NO_PREVIEW, TelegramParents
from .inbox import ChatInbox
from .keyboards import MESSAGE_LIMIT
from .ratelimit import ChatRateLimiter
from .settings import CHANNEL, TelegramSettings, telegram_settings
from .updates import (
    ALLOWED_UPDATES,
    ButtonIn,
    CommandIn,
    GroupChat,
    Inbound,
    ParentInput,
    StrayQuery,
    TextIn,
    route,
)

log = logging.getLogger("cjgbot.telegram")

# (command, English name): the flow knows both names (flows.events.COMMAND_ALIASES).
COMMANDS = (
    ("start", "start"),
    ("help", "help"),
    ("privacy", "privacy"),
    ("opnieuw", "restart"),
    ("mijngegevens", "mydata"),
    ("vergeet", "forget"),
    ("stop", "stop"),
)
_REMEMBERED_CHATS = 10_000  # keyboards and left groups kept in memory (oldest forgotten)
_UNKNOWN = object()


def build_application(settings: TelegramSettings) -> Application[Any, Any, Any, Any, Any, Any]:
    return (
        Application.builder()
        .token(settings.token.get_secret_value())
        .base_url(settings.base_url)
        .rate_limiter(ChatRateLimiter(settings.rate_limits))
        .job_queue(None)
        .concurrent_updates(False)  # handlers only queue; ChatInbox runs chats side by side
        .build()
    )


class TelegramChannel:
    """Start and stop the channel; the app's "telegram" parent gateway is registered here."""

    def __init__(self, app: App, settings: TelegramSettings, drain_seconds: float = 20) -> None:
        self.app = app
        self.settings = settings
        self.drain_seconds = drain_seconds
        context = app.contexts[CHANNEL]
        self.catalogue = context.catalogue
        self.application = build_application(settings)
        self.bot = self.application.bot
        self.gateway = TelegramParents(self.bot, self._keyboard_sent)
        self.inbox = ChatInbox(self._process, context.max_message_chars)
        # chat -> message id of the keyboard that may still be pressed (None: none may)
        self._keyboards: OrderedDict[int, int | None] = OrderedDict()
        self._left: OrderedDict[int, None] = OrderedDict()
        self._other_handled = 0
        app.add_parent_channel(CHANNEL, self.gateway)
        app.personal_message_max_age[CHANNEL] = timedelta(
            hours=settings.delete_personal_after_hours
        )
        self.application.add_handler(TypeHandler(Update, self._on_update))
        self.application.add_error_handler(self._on_error)

    @classmethod
    def from_settings(cls, app: App, settings: Settings) -> TelegramChannel:
        found = telegram_settings(settings)
        if found is None:
            raise ConfigError(f"channels.{CHANNEL}: not configured (set its token)")
        return cls(app, found)

    @property
    def handled_updates(self) -> int:
        """Updates fully handled so far (a metric; tests wait on it)."""
        return self.inbox.handled + self._other_handled

    # --- life cycle ---

    async def start(self) -> None:
        try:
            await self.application.initialize()
        except InvalidToken:
            await self.bot.shutdown()
            raise ConfigError(f"channels.{CHANNEL}.token: Telegram rejected the token") from None
        except BaseException:
            await self.bot.shutdown()
            raise
        await self._set_commands()
        await self.application.start()
        updater = self.application.updater
        assert updater is not None
        if self.settings.mode == "webhook":
            assert self.settings.webhook_secret is not None
            await updater.start_webhook(
                listen=self.settings.webhook_listen,
                port=self.settings.webhook_port,
                url_path=self.settings.webhook_path,
                webhook_url=self.settings.webhook_url,
                secret_token=self.settings.webhook_secret.get_secret_value(),
                allowed_updates=ALLOWED_UPDATES,
                drop_pending_updates=False,
                max_connections=self.settings.webhook_max_connections,
                bootstrap_retries=3,
            )
        else:
            await updater.start_polling(
                timeout=timedelta(seconds=self.settings.poll_timeout),
                allowed_updates=ALLOWED_UPDATES,
                drop_pending_updates=False,  # what parents sent while the bot was down counts
                bootstrap_retries=3,
            )
        log.info("telegram_started", extra={"channel": CHANNEL, "status": self.settings.mode})

    async def stop(self) -> None:
        """Stop fetching, answer what was already received, then close the connections."""
        updater = self.application.updater
        if updater is not None and updater.running:
            await updater.stop()
        if self.application.running:
            await self.application.stop()
        if not await self.inbox.drain(within=self.drain_seconds):
            log.warning("telegram_stop_unanswered", extra={"channel": CHANNEL})
            await self.inbox.cancel()
        await self.application.shutdown()
        log.info("telegram_stopped", extra={"channel": CHANNEL})

    async def _set_commands(self) -> None:
        for language, index in (("nl", 0), ("en", 1)):
            commands = [
                BotCommand(
                    names[index],
                    self.catalogue.get(f"telegram_command_{names[0]}", language),
                )
                for names in COMMANDS
            ]
            try:
                await self.bot.set_my_commands(
                    commands, language_code=None if language == "nl" else language
                )
            except TelegramError:  # the menu is a convenience: typing commands still works
                log.warning("telegram_commands_not_set", extra={"channel": CHANNEL})

    # --- personal messages ---

    async def sweep(self) -> int:
        """Delete due bot messages with personal data now (the app's sweeper does this too)."""
        return await self.app.delete_personal_messages(channel=CHANNEL)

    # --- updates ---

    async def _on_update(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        if not isinstance(update, Update):
            return
        routed = route(update)
        if isinstance(routed, ParentInput):
            self.inbox.put(routed.chat_id, routed.item)
            return
        try:
            if isinstance(routed, GroupChat):
                await self._leave(routed)
            elif isinstance(routed, StrayQuery):
                await self._answer(routed.query_id)
        finally:
            self._other_handled += 1

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        error = context.error
        log.warning(
            "telegram_error",
            extra={"channel": CHANNEL, "status": type(error).__name__ if error else "unknown"},
        )

    async def _leave(self, group: GroupChat) -> None:
        if group.chat_id in self._left:
            return
        _remember(self._left, group.chat_id, None)
        if group.can_post:
            text = self.catalogue.get("telegram_private_only", group.language)
            # Not allowed to write there? Leaving is what matters.
            with contextlib.suppress(TelegramError):
                await self.bot.send_message(group.chat_id, text, link_preview_options=NO_PREVIEW)
        try:
            await self.bot.leave_chat(group.chat_id)
        except TelegramError:
            log.warning("telegram_leave_failed", extra={"channel": CHANNEL})
        log.info("telegram_left_group", extra={"channel": CHANNEL})

    async def _process(self, chat_id: int, item: Inbound) -> None:
        if isinstance(item, ButtonIn):
            await self._button(chat_id, item)
            return
        _remember(self._keyboards, chat_id, None)  # the parent typed: older buttons are done
        event: ParentEvent
        if isinstance(item, TextIn):
            event = ParentText(item.text)
        elif isinstance(item, CommandIn):
            event = item.command
        else:
            event = ParentUnsupported(item.kind)
        await self._run(chat_id, event)

    async def _button(self, chat_id: int, item: ButtonIn) -> None:
        live = self._keyboards.get(chat_id, _UNKNOWN)
        if live is not _UNKNOWN and live != item.message_id:
            # Pressed twice, or a choice the conversation has moved past.
            await self._answer(
                item.query_id, self.catalogue.get("telegram_choice_closed", item.language)
            )
            await self._edit(chat_id, item.message_id, None)
            return
        _remember(self._keyboards, chat_id, None)
        await self._answer(item.query_id)
        label = item.label or item.value or ""
        await self._run(chat_id, ParentText(label, button=item.value))
        choice = self.catalogue.get("telegram_choice_made", item.language, label=label)
        await self._edit(chat_id, item.message_id, item.message_text, choice)

    async def _run(self, chat_id: int, event: ParentEvent) -> None:
        try:
            await self.app.handle_parent(CHANNEL, str(chat_id), event)
        except Exception:
            log.exception("telegram_turn_failed", extra={"channel": CHANNEL})
            with contextlib.suppress(TelegramError):
                await self.bot.send_message(chat_id, self.catalogue.get("telegram_error", "nl"))

    def _keyboard_sent(self, chat_id: int, message_id: int) -> None:
        _remember(self._keyboards, chat_id, message_id)

    async def _answer(self, query_id: str, text: str | None = None) -> None:
        with contextlib.suppress(TelegramError):  # an expired query: nothing to show any more
            await self.bot.answer_callback_query(query_id, text=text)

    async def _edit(
        self, chat_id: int, message_id: int, text: str | None, choice: str | None = None
    ) -> None:
        """Take the buttons off a message; show the choice under it when the text is known."""
        try:
            if text is not None and choice is not None:
                new = f"{text}\n\n{choice}"
                if len(new) <= MESSAGE_LIMIT:
                    await self.bot.edit_message_text(
                        new, chat_id, message_id, link_preview_options=NO_PREVIEW
                    )
                    return
            await self.bot.edit_message_reply_markup(chat_id, message_id, reply_markup=None)
        except TelegramError:
            pass  # too old or already changed: the buttons are handled by the stale check


def _remember(memory: OrderedDict[int, Any], key: int, value: Any) -> None:
    memory[key] = value
    memory.move_to_end(key)
    while len(memory) > _REMEMBERED_CHATS:
        memory.popitem(last=False)


async def run_telegram(app: App, settings: Settings) -> None:
    """Run the Telegram channel until cancelled (for `cjgbot run`)."""
    channel = TelegramChannel.from_settings(app, settings)
    await channel.start()
    try:
        await asyncio.Event().wait()
    finally:
        await channel.stop()
