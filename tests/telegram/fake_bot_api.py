"""A small Telegram Bot API server for the tests, on 127.0.0.1 (aiohttp).

It speaks enough of the real API for python-telegram-bot to run against it over HTTP:
getMe, getUpdates (long polling), sendMessage (inline keyboards), answerCallbackQuery,
editMessageText, editMessageReplyMarkup, deleteMessage (refused after 48 hours on the
server's own controllable clock), setMyCommands, setWebhook/deleteWebhook/getWebhookInfo
and leaveChat. In webhook mode it POSTs updates to the bot. `fail_next` answers the next
calls of a method with 429 and retry_after. Parents and groups are simulated through
`FakeParent` and `push_*` helpers; everything the bot did is recorded for assertions.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from aiohttp import web

BOT_ID = 7000001
BOT_USERNAME = "cjg_test_bot"
DELETE_LIMIT = timedelta(hours=48)
TEXT_LIMIT = 4096
CALLBACK_DATA_LIMIT = 64

_INT_FIELDS = {
    "chat_id",
    "message_id",
    "offset",
    "limit",
    "timeout",
    "cache_time",
    "max_connections",
    "user_id",
}
_JSON_FIELDS = {
    "reply_markup",
    "commands",
    "scope",
    "allowed_updates",
    "link_preview_options",
    "reply_parameters",
    "entities",
    "message_ids",
}
_BOOL_FIELDS = {"drop_pending_updates", "show_alert", "disable_notification", "protect_content"}

# Minimal but valid content of each kind of message that is not text.
CONTENT: dict[str, dict[str, Any]] = {
    "photo": {
        "photo": [{"file_id": "p1", "file_unique_id": "up1", "width": 90, "height": 90}],
        "caption": "onze keuken",
    },
    "voice": {"voice": {"file_id": "v1", "file_unique_id": "uv1", "duration": 4}},
    "video": {
        "video": {
            "file_id": "vd1",
            "file_unique_id": "uvd1",
            "width": 9,
            "height": 9,
            "duration": 3,
        }
    },
    "video_note": {
        "video_note": {"file_id": "vn1", "file_unique_id": "uvn1", "length": 9, "duration": 3}
    },
    "audio": {"audio": {"file_id": "a1", "file_unique_id": "ua1", "duration": 30}},
    "sticker": {
        "sticker": {
            "file_id": "s1",
            "file_unique_id": "us1",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        }
    },
    "document": {
        "document": {"file_id": "d1", "file_unique_id": "ud1", "file_name": "verslag.pdf"}
    },
    "animation": {
        "animation": {
            "file_id": "g1",
            "file_unique_id": "ug1",
            "width": 9,
            "height": 9,
            "duration": 2,
        },
        "document": {"file_id": "g1", "file_unique_id": "ug1"},
    },
    "location": {"location": {"latitude": 51.4103, "longitude": 5.4027}},
    "venue": {
        "venue": {
            "location": {"latitude": 51.41, "longitude": 5.40},
            "title": "Zonnebloemschool",
            "address": "Schoolstraat 1",
        },
        "location": {"latitude": 51.41, "longitude": 5.40},
    },
    "contact": {"contact": {"phone_number": "+31612345678", "first_name": "Petra"}},
    "poll": {
        "poll": {
            "id": "poll1",
            "question": "Wie slaapt er slecht?",
            "options": [
                {"text": "ik", "voter_count": 0, "persistent_id": "o1"},
                {"text": "jij", "voter_count": 0, "persistent_id": "o2"},
            ],
            "total_voter_count": 0,
            "is_closed": False,
            "is_anonymous": True,
            "type": "regular",
            "allows_multiple_answers": False,
            "allows_revoting": False,
            "members_only": False,
        }
    },
    "dice": {"dice": {"emoji": "🎲", "value": 3}},
}


class ApiError(Exception):
    def __init__(self, code: int, description: str, parameters: dict[str, Any] | None = None):
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters


@dataclass
class StoredMessage:
    chat_id: int
    message_id: int
    from_bot: bool
    text: str | None
    date: datetime
    reply_markup: dict[str, Any] | None = None
    deleted: bool = False
    edits: int = 0

    @property
    def buttons(self) -> list[dict[str, Any]]:
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [cell for row in rows for cell in row]

    @property
    def labels(self) -> list[str]:
        return [cell["text"] for cell in self.buttons]


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float  # time.monotonic()
    status: int = 200


@dataclass
class Chat:
    id: int
    type: str  # "private" | "group" | "supergroup" | "channel"
    title: str | None = None
    user: FakeParent | None = None

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "type": self.type}
        if self.type == "private" and self.user is not None:
            data["first_name"] = self.user.first_name
        else:
            data["title"] = self.title or "Groep"
        return data


@dataclass
class FakeParent:
    """A Telegram user in a private chat with the bot."""

    server: FakeBotApi
    id: int
    first_name: str = "Ouder"
    language_code: str = "nl"

    @property
    def chat_id(self) -> int:
        return self.id

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "is_bot": False,
            "first_name": self.first_name,
            "language_code": self.language_code,
        }

    def say(self, text: str) -> int:
        return self.server.push_message(self, self.server.private_chat(self), {"text": text})

    def send(self, kind: str) -> int:
        return self.server.push_message(self, self.server.private_chat(self), CONTENT[kind])

    def edit(self, message_id: int, text: str) -> int:
        return self.server.push_edit(self, message_id, text)

    def press(self, label: str, message: StoredMessage | None = None) -> int:
        """Press the button with this label on `message` (default: the last bot message)."""
        message = message or self.last_keyboard()
        return self.server.push_callback(self, message, label)

    def messages(self) -> list[StoredMessage]:
        return self.server.bot_messages(self.chat_id)

    def texts(self) -> list[str]:
        return [m.text or "" for m in self.messages()]

    def last_keyboard(self) -> StoredMessage:
        return [m for m in self.messages() if m.buttons][-1]


@dataclass
class Webhook:
    url: str
    secret: str | None
    allowed_updates: list[str] | None
    max_connections: int | None


@dataclass
class FakeBotApi:
    token: str
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    host: str = "127.0.0.1"

    def __post_init__(self) -> None:
        self.calls: list[Call] = []
        self.messages: dict[tuple[int, int], StoredMessage] = {}
        self.chats: dict[int, Chat] = {}
        self.commands: dict[str | None, list[dict[str, Any]]] = {}  # language_code -> commands
        self.left_chats: set[int] = set()
        self.answered: dict[str, str | None] = {}  # callback query id -> text shown
        self.webhook: Webhook | None = None
        self.webhook_deliveries: list[int] = []  # HTTP status per POST
        self._queries: set[str] = set()
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._query_ids = itertools.count(1)
        self._failures: dict[str, list[int]] = {}
        self._changed = asyncio.Condition()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._pusher: asyncio.Task[None] | None = None
        self.port = 0
        self.confirmed = 0  # highest update id the bot has confirmed

    # --- server life cycle ---

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("POST", "/bot{token}/{method}", self._handle)
        app.router.add_route("GET", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        self._closing = True
        async with self._changed:
            self._changed.notify_all()
        if self._pusher is not None:
            self._pusher.cancel()
            await asyncio.gather(self._pusher, return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/bot"

    # --- simulated people and chats ---

    def parent(self, user_id: int = 4242, language_code: str = "nl") -> FakeParent:
        user = FakeParent(self, user_id, language_code=language_code)
        self.chats[user_id] = Chat(user_id, "private", user=user)
        return user

    def private_chat(self, user: FakeParent) -> Chat:
        return self.chats[user.id]

    def group(self, chat_id: int = -100200300, kind: str = "supergroup") -> Chat:
        chat = self.chats[chat_id] = Chat(chat_id, kind, title="Ouders groep 7")
        return chat

    def push_message(self, user: FakeParent, chat: Chat, content: dict[str, Any]) -> int:
        message = self._user_message(user, chat, content)
        return self._push({"message": message})

    def push_edit(self, user: FakeParent, message_id: int, text: str) -> int:
        chat = self.private_chat(user)
        stored = self.messages[(chat.id, message_id)]
        stored.text = text
        message = {
            "message_id": message_id,
            "date": int(stored.date.timestamp()),
            "edit_date": self._now(),
            "chat": chat.as_json(),
            "from": user.as_json(),
            "text": text,
        }
        return self._push({"edited_message": message})

    def push_callback(self, user: FakeParent, message: StoredMessage, label: str) -> int:
        [button] = [b for b in message.buttons if b["text"] == label]
        query_id = str(next(self._query_ids))
        self._queries.add(query_id)
        query = {
            "id": query_id,
            "from": user.as_json(),
            "chat_instance": f"ci{message.chat_id}",
            "message": self._message_json(message),
            "data": button["callback_data"],
        }
        return self._push({"callback_query": query})

    def push_added_to_group(self, user: FakeParent, chat: Chat) -> int:
        member = {
            "chat": chat.as_json(),
            "from": user.as_json(),
            "date": self._now(),
            "old_chat_member": {"status": "left", "user": self._bot_user()},
            "new_chat_member": {"status": "member", "user": self._bot_user()},
        }
        return self._push({"my_chat_member": member})

    def _user_message(
        self, user: FakeParent, chat: Chat, content: dict[str, Any]
    ) -> dict[str, Any]:
        message_id = self._next_message_id(chat.id)
        text = content.get("text")
        self.messages[(chat.id, message_id)] = StoredMessage(
            chat.id, message_id, False, text, self.clock()
        )
        message = {
            "message_id": message_id,
            "date": self._now(),
            "chat": chat.as_json(),
            "from": user.as_json(),
            **content,
        }
        if text and text.startswith("/"):
            length = len(text.split()[0])
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return message

    def _push(self, update: dict[str, Any]) -> int:
        update_id = next(self._update_ids)
        self._updates.append({"update_id": update_id, **update})
        asyncio.get_running_loop().create_task(self._notify())
        return update_id

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # --- records ---

    def bot_messages(self, chat_id: int) -> list[StoredMessage]:
        return [m for (c, _), m in sorted(self.messages.items()) if c == chat_id and m.from_bot]

    def calls_of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def fail_next(self, method: str, times: int = 1, retry_after: int = 1) -> None:
        """Answer the next `times` calls of `method` with 429 Too Many Requests."""
        self._failures.setdefault(method, []).extend([retry_after] * times)

    @property
    def pending_updates(self) -> int:
        return sum(1 for u in self._updates if u["update_id"] > self.confirmed)

    # --- HTTP ---

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._params(request)
        call = Call(method, params, time.monotonic())
        self.calls.append(call)
        try:
            if request.match_info["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            retry = self._failures.get(method)
            if retry:
                raise ApiError(429, "Too Many Requests: retry later", {"retry_after": retry.pop(0)})
            handler = getattr(self, f"_api_{method}", None)
            if handler is None:
                raise ApiError(404, "Not Found")
            result = await handler(params, request)
        except ApiError as exc:
            call.status = exc.code
            body: dict[str, Any] = {
                "ok": False,
                "error_code": exc.code,
                "description": exc.description,
            }
            if exc.parameters:
                body["parameters"] = exc.parameters
            return web.json_response(body, status=exc.code)
        await self._notify()
        return web.json_response({"ok": True, "result": result})

    async def _params(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            return dict(await request.json())
        raw: dict[str, Any] = dict(request.query)
        raw.update(await request.post())
        params: dict[str, Any] = {}
        for name, value in raw.items():
            value = str(value)
            if name in _INT_FIELDS:
                try:
                    params[name] = int(value)
                except ValueError:
                    params[name] = value
            elif name in _JSON_FIELDS:
                params[name] = json.loads(value)
            elif name in _BOOL_FIELDS:
                params[name] = value.lower() == "true"
            else:
                params[name] = value
        return params

    # --- API methods ---

    async def _api_getMe(self, params: dict[str, Any], request: web.Request) -> Any:
        return {
            **self._bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _api_getUpdates(self, params: dict[str, Any], request: web.Request) -> Any:
        if self.webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = int(params.get("offset") or 0)
        if offset:
            self.confirmed = max(self.confirmed, offset - 1)
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        limit = int(params.get("limit") or 100)
        allowed = params.get("allowed_updates") or None
        deadline = time.monotonic() + float(params.get("timeout") or 0)
        while True:
            ready = [u for u in self._updates if self._allowed(u, allowed)][:limit]
            if ready or self._closing or time.monotonic() >= deadline:
                return ready
            transport = request.transport
            if transport is None or transport.is_closing():
                return []
            async with self._changed:
                left = max(0.0, min(0.2, deadline - time.monotonic()))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), left)

    @staticmethod
    def _allowed(update: dict[str, Any], allowed: list[str] | None) -> bool:
        return not allowed or any(kind in update for kind in allowed)

    async def _api_sendMessage(self, params: dict[str, Any], request: web.Request) -> Any:
        chat = self._chat(params["chat_id"])
        text = str(params.get("text", ""))
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if len(text) > TEXT_LIMIT:
            raise ApiError(400, "Bad Request: message is too long")
        markup = params.get("reply_markup")
        self._check_markup(markup)
        message = StoredMessage(
            chat.id, self._next_message_id(chat.id), True, text, self.clock(), markup
        )
        self.messages[(chat.id, message.message_id)] = message
        return self._message_json(message)

    async def _api_answerCallbackQuery(self, params: dict[str, Any], request: web.Request) -> Any:
        query_id = str(params["callback_query_id"])
        if query_id not in self._queries or query_id in self.answered:
            raise ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        self.answered[query_id] = params.get("text")
        return True

    async def _api_editMessageText(self, params: dict[str, Any], request: web.Request) -> Any:
        message = self._bot_message(params)
        text = str(params.get("text", ""))
        markup = params.get("reply_markup")
        if len(text) > TEXT_LIMIT:
            raise ApiError(400, "Bad Request: message is too long")
        if text == message.text and markup == message.reply_markup:
            raise ApiError(400, "Bad Request: message is not modified")
        self._check_markup(markup)
        message.text, message.reply_markup = text, markup
        message.edits += 1
        return self._message_json(message)

    async def _api_editMessageReplyMarkup(
        self, params: dict[str, Any], request: web.Request
    ) -> Any:
        message = self._bot_message(params)
        markup = params.get("reply_markup")
        if markup == message.reply_markup:
            raise ApiError(400, "Bad Request: message is not modified")
        self._check_markup(markup)
        message.reply_markup = markup
        message.edits += 1
        return self._message_json(message)

    async def _api_deleteMessage(self, params: dict[str, Any], request: web.Request) -> Any:
        key = (int(params["chat_id"]), int(params["message_id"]))
        message = self.messages.get(key)
        if message is None or message.deleted:
            raise ApiError(400, "Bad Request: message to delete not found")
        if self.clock() - message.date >= DELETE_LIMIT:
            raise ApiError(400, "Bad Request: message can't be deleted for everyone")
        message.deleted = True
        return True

    async def _api_setMyCommands(self, params: dict[str, Any], request: web.Request) -> Any:
        commands = params.get("commands") or []
        for command in commands:
            name, description = command.get("command", ""), command.get("description", "")
            if not (
                1 <= len(name) <= 32
                and name.isascii()
                and name == name.lower()
                and name.replace("_", "").isalnum()
            ):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(description) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands[params.get("language_code") or None] = commands
        return True

    async def _api_setWebhook(self, params: dict[str, Any], request: web.Request) -> Any:
        url = str(params.get("url", ""))
        if not url:
            return await self._api_deleteWebhook(params, request)
        self.webhook = Webhook(
            url,
            params.get("secret_token"),
            params.get("allowed_updates"),
            params.get("max_connections"),
        )
        if params.get("drop_pending_updates"):
            self._updates.clear()
        if self._pusher is None or self._pusher.done():
            self._pusher = asyncio.create_task(self._push_to_webhook())
        return True

    async def _api_deleteWebhook(self, params: dict[str, Any], request: web.Request) -> Any:
        self.webhook = None
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _api_getWebhookInfo(self, params: dict[str, Any], request: web.Request) -> Any:
        return {
            "url": self.webhook.url if self.webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": self.pending_updates,
        }

    async def _api_leaveChat(self, params: dict[str, Any], request: web.Request) -> Any:
        chat = self._chat(params["chat_id"])
        self.left_chats.add(chat.id)
        return True

    # --- webhook delivery ---

    async def _push_to_webhook(self) -> None:
        async with httpx.AsyncClient(timeout=10) as client:
            while not self._closing:
                hook = self.webhook
                ready = [u for u in self._updates if u["update_id"] > self.confirmed]
                if hook is None or not ready:
                    async with self._changed:
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(self._changed.wait(), 0.2)
                    continue
                update = ready[0]
                headers = {"X-Telegram-Bot-Api-Secret-Token": hook.secret} if hook.secret else {}
                try:
                    response = await client.post(hook.url, json=update, headers=headers)
                    status = response.status_code
                except httpx.HTTPError:
                    status = 0
                self.webhook_deliveries.append(status)
                if status == 200:
                    self.confirmed = update["update_id"]
                    self._updates.remove(update)
                else:
                    await asyncio.sleep(0.1)

    # --- helpers ---

    def _now(self) -> int:
        return int(self.clock().timestamp())

    def _bot_user(self) -> dict[str, Any]:
        return {"id": BOT_ID, "is_bot": True, "first_name": "CJG", "username": BOT_USERNAME}

    def _next_message_id(self, chat_id: int) -> int:
        counter = self._message_ids.setdefault(chat_id, itertools.count(1))
        return next(counter)

    def _chat(self, chat_id: Any) -> Chat:
        chat = self.chats.get(int(chat_id)) if str(chat_id).lstrip("-").isdigit() else None
        if chat is None:
            raise ApiError(400, "Bad Request: chat not found")
        if chat.id in self.left_chats:
            raise ApiError(403, "Forbidden: bot is not a member of the supergroup chat")
        return chat

    def _bot_message(self, params: dict[str, Any]) -> StoredMessage:
        chat = self._chat(params["chat_id"])
        message = self.messages.get((chat.id, int(params["message_id"])))
        if message is None or message.deleted:
            raise ApiError(400, "Bad Request: message to edit not found")
        if not message.from_bot:
            raise ApiError(400, "Bad Request: message can't be edited")
        return message

    @staticmethod
    def _check_markup(markup: dict[str, Any] | None) -> None:
        for row in (markup or {}).get("inline_keyboard", []):
            for cell in row:
                data = cell.get("callback_data")
                if data is not None and not 1 <= len(data.encode("utf-8")) <= CALLBACK_DATA_LIMIT:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")

    def _message_json(self, message: StoredMessage) -> dict[str, Any]:
        chat = self.chats[message.chat_id]
        data: dict[str, Any] = {
            "message_id": message.message_id,
            "date": int(message.date.timestamp()),
            "chat": chat.as_json(),
            "text": message.text,
        }
        if message.from_bot:
            data["from"] = self._bot_user()
        if message.reply_markup and message.reply_markup.get("inline_keyboard"):
            data["reply_markup"] = message.reply_markup
        return data
