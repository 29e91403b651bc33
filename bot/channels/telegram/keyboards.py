"""Telegram's message quirks: inline keyboards, 64-byte callback data, long texts, message refs.

Pure functions; the gateway and the update translation use them.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from flows.actions import Button

CALLBACK_DATA_LIMIT = 64  # bytes, Telegram's limit for callback_data
MESSAGE_LIMIT = 4096  # characters in one message
ROW_CHARS = 32  # buttons share a row while their labels fit in this many characters
ROW_BUTTONS = 3
VALUE_PREFIX = "b:"  # "b:<value>": a button's value
INDEX_PREFIX = "i:"  # "i:<n>": the n-th button, for a value too long for callback_data
REF_PREFIX = "tg:"


def callback_data(button: Button, index: int) -> str:
    data = VALUE_PREFIX + button.value
    if len(data.encode("utf-8")) <= CALLBACK_DATA_LIMIT:
        return data
    return f"{INDEX_PREFIX}{index}"


def keyboard(buttons: tuple[Button, ...]) -> InlineKeyboardMarkup:
    """Buttons in rows of at most three, as long as the labels fit side by side."""
    rows: list[list[InlineKeyboardButton]] = []
    width = 0
    for index, button in enumerate(buttons):
        cell = InlineKeyboardButton(button.label, callback_data=callback_data(button, index))
        if rows and len(rows[-1]) < ROW_BUTTONS and width + len(button.label) <= ROW_CHARS:
            rows[-1].append(cell)
            width += len(button.label)
        else:
            rows.append([cell])
            width = len(button.label)
    return InlineKeyboardMarkup(rows)


def pressed(data: str, markup: InlineKeyboardMarkup | None) -> tuple[str | None, str | None]:
    """(label, value) of a pressed button; either may be unknown (None)."""
    cells = [cell for row in markup.inline_keyboard for cell in row] if markup else []
    label = next((cell.text for cell in cells if cell.callback_data == data), None)
    if data.startswith(VALUE_PREFIX):
        return label, data[len(VALUE_PREFIX) :] or None
    if data.startswith(INDEX_PREFIX):
        index = data[len(INDEX_PREFIX) :]
        if label is None and index.isdigit() and int(index) < len(cells):
            label = cells[int(index)].text
        return label, None
    return None, None


def split_text(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Split a long text into messages Telegram accepts, at line breaks where possible."""
    chunks: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit + 1)
        if cut <= 0:
            cut = rest.rfind(" ", 0, limit + 1)
        if cut <= 0:
            cut = limit
        chunks.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        chunks.append(rest)
    return chunks


def encode_ref(chat_id: int, message_ids: list[int]) -> str:
    """'tg:<chat>:<id>,<id>': every Telegram message one reply became (stored encrypted)."""
    return f"{REF_PREFIX}{chat_id}:{','.join(str(i) for i in message_ids)}"


def decode_ref(ref: str) -> tuple[int, list[int]] | None:
    if not ref.startswith(REF_PREFIX):
        return None
    chat, _, ids = ref[len(REF_PREFIX) :].partition(":")
    try:
        return int(chat), [int(i) for i in ids.split(",") if i]
    except ValueError:
        return None
