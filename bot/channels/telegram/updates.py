"""Translating Telegram updates into what the channel does with them (pure, no I/O).

Private chats become parent input; anything in a group or channel becomes "leave";
everything that is not text becomes an unsupported kind and its content is dropped here.
"""

from __future__ import annotations

from dataclasses import dataclass

from telegram import Chat, ChatMember, Message, Update

from flows.events import ParentCommand, parse_command

from .keyboards import pressed

# What the bot asks Telegram for; other update types are never delivered.
ALLOWED_UPDATES = ("message", "edited_message", "callback_query", "my_chat_member")

# Message contents that are not text, in the order they are checked (Telegram sends an
# animation also as a document and a venue also as a location).
CONTENT_KINDS = (
    "animation",
    "photo",
    "video",
    "video_note",
    "voice",
    "audio",
    "sticker",
    "document",
    "venue",
    "location",
    "contact",
    "poll",
    "dice",
    "game",
    "story",
    "paid_media",
    "invoice",
    "checklist",
)


@dataclass(frozen=True, slots=True)
class TextIn:
    text: str
    count: int = 1  # how many messages were joined into this text


@dataclass(frozen=True, slots=True)
class CommandIn:
    command: ParentCommand


@dataclass(frozen=True, slots=True)
class UnsupportedIn:
    kind: str


@dataclass(frozen=True, slots=True)
class ButtonIn:
    query_id: str
    message_id: int
    label: str | None
    value: str | None
    message_text: str | None  # None: too old for Telegram to show it to the bot
    language: str


@dataclass(frozen=True, slots=True)
class StrayQuery:
    """A button press that is not for a private conversation: only answer it."""

    query_id: str


Inbound = TextIn | CommandIn | UnsupportedIn | ButtonIn


@dataclass(frozen=True, slots=True)
class ParentInput:
    chat_id: int
    item: Inbound


@dataclass(frozen=True, slots=True)
class GroupChat:
    """The bot is in a group or channel: say once that it only talks privately, and leave."""

    chat_id: int
    language: str
    can_post: bool


Routed = ParentInput | GroupChat | StrayQuery | None


def language_of(code: str | None) -> str:
    return "en" if code and code.lower().startswith("en") else "nl"


def route(update: Update) -> Routed:
    """What to do with an update; None: ignore it."""
    if update.callback_query is not None:
        return _button(update)
    if update.my_chat_member is not None:
        member = update.my_chat_member
        joined = member.new_chat_member.status in (ChatMember.MEMBER, ChatMember.ADMINISTRATOR)
        if member.chat.type != Chat.PRIVATE and joined:
            return GroupChat(
                member.chat.id,
                language_of(member.from_user.language_code),
                member.chat.type != Chat.CHANNEL,
            )
        return None
    edited = update.edited_message
    message = update.message or edited
    if message is None:
        return None
    if message.chat.type != Chat.PRIVATE:
        user = message.from_user
        return GroupChat(
            message.chat.id,
            language_of(user.language_code if user else None),
            message.chat.type != Chat.CHANNEL,
        )
    if message.from_user is not None and message.from_user.is_bot:
        return None
    if edited is not None:
        return ParentInput(message.chat.id, UnsupportedIn("edited_message"))
    item = _private(message)
    return None if item is None else ParentInput(message.chat.id, item)


def _private(message: Message) -> Inbound | None:
    if message.text is not None:
        command = parse_command(message.text)
        return CommandIn(command) if command is not None else TextIn(message.text)
    for kind in CONTENT_KINDS:
        if getattr(message, kind, None):
            return UnsupportedIn(kind)
    if message.effective_attachment is not None:
        return UnsupportedIn("attachment")
    return None  # a service message (pinned, chat settings, ...): nothing to answer


def _button(update: Update) -> Routed:
    query = update.callback_query
    assert query is not None
    message = query.message
    if message is None or message.chat.type != Chat.PRIVATE:
        return StrayQuery(query.id)
    markup = message.reply_markup if isinstance(message, Message) else None
    label, value = pressed(query.data or "", markup)
    if label is None and value is None:
        return StrayQuery(query.id)
    return ParentInput(
        message.chat.id,
        ButtonIn(
            query_id=query.id,
            message_id=message.message_id,
            label=label,
            value=value,
            message_text=message.text if isinstance(message, Message) else None,
            language=language_of(query.from_user.language_code),
        ),
    )
