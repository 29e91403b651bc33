"""Matrix message content: plain and HTML bodies, escaping, and no mentions or pings.

Everything the bot posts passes through here. Text that a parent typed ends up inside
room posts and replies, so both bodies are neutralised: HTML is escaped, `@room` and
Matrix ids (which clients turn into pills and pings) get an invisible word joiner after
their sigil, and `m.mentions` is empty, which also switches off the legacy push rules
that ping on a display name or `@room` in the body.
"""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import quote

from flows.actions import Button, Reply

WORD_JOINER = "\u2060"
HTML_FORMAT = "org.matrix.custom.html"
# @room (any case) as a word: the whole-room ping.
ROOM_PING = re.compile(r"@(?=room\b)", re.IGNORECASE)
# @user:server, #alias:server, !room:server, +group:server not glued to a word (e-mail
# addresses keep their @), also inside matrix.to links.
MATRIX_ID = re.compile(r"(?<![\w.+\-])([@#!+])(?=[^\s:@#!+/]+:[A-Za-z0-9\-\[][A-Za-z0-9.\-:\[\]]*)")
LABEL = re.compile(r"^([^\W\d_][\w ]{0,30}):(\s)", re.UNICODE)
TEXT_KINDS_WITH_TITLE = ("handover", "contact", "reminder")


def neutralise(text: str) -> str:
    """The same text with every mention, pill and @room ping made inert."""
    text = ROOM_PING.sub("@" + WORD_JOINER, text)
    return MATRIX_ID.sub(lambda m: m.group(1) + WORD_JOINER, text)


def _html_line(line: str, label: bool) -> str:
    escaped = html.escape(line, quote=False)
    if label:
        escaped = LABEL.sub(r"<b>\1:</b>\2", escaped)
    return escaped


def _html_block(lines: list[str], labels: bool) -> str:
    return "<br>".join(_html_line(line, labels) for line in lines)


def text_content(body: str, formatted: str, msgtype: str = "m.text") -> dict[str, Any]:
    return {
        "msgtype": msgtype,
        "body": body,
        "format": HTML_FORMAT,
        "formatted_body": formatted,
        "m.mentions": {},
    }


def room_post_content(
    text: str, kind: str, mention: tuple[str, str] | None = None
) -> dict[str, Any]:
    """A post in the loket or a partner room; handover posts get a bold title and labels.

    `mention` (user id, display name) is the one deliberate mention: a pill in front of the
    text and the user in `m.mentions`, so that exactly that person is notified.
    """
    safe = neutralise(text).strip("\n")
    lines = safe.split("\n")
    if kind in TEXT_KINDS_WITH_TITLE and len(lines) > 1:
        title = f"<strong>{html.escape(lines[0], quote=False)}</strong>"
        formatted = f"<p>{title}</p><p>{_html_block(lines[1:], labels=True)}</p>"
    else:
        formatted = _html_block(lines, labels=kind in TEXT_KINDS_WITH_TITLE)
    msgtype = "m.text" if kind in ("handover", "contact") or mention else "m.notice"
    content = text_content(safe, formatted, msgtype)
    if mention is not None:
        user_id, name = mention
        name = neutralise(name)
        link = f"https://matrix.to/#/{quote(user_id, safe='@:')}"
        content["body"] = f"{name}: {safe}"
        pill = f'<a href="{html.escape(link)}">{html.escape(name, quote=False)}</a>:'
        block = formatted.startswith("<p>")
        content["formatted_body"] = f"<p>{pill}</p>{formatted}" if block else f"{pill} {formatted}"
        content["m.mentions"] = {"user_ids": [user_id]}
    return content


def parent_reply_content(reply: Reply) -> dict[str, Any]:
    """A reply to a parent; choice buttons become a numbered list (answer with the number)."""
    safe = neutralise(reply.text).strip("\n")
    body = safe
    formatted = _html_block(safe.split("\n"), labels=False)
    if reply.buttons:
        labels = [neutralise(button.label) for button in reply.buttons]
        body += "\n\n" + "\n".join(f"{i}. {label}" for i, label in enumerate(labels, 1))
        items = "".join(f"<li>{html.escape(label, quote=False)}</li>" for label in labels)
        formatted += f"<ol>{items}</ol>"
    return text_content(body, formatted)


def plain_content(text: str, msgtype: str = "m.notice") -> dict[str, Any]:
    safe = neutralise(text).strip("\n")
    return text_content(safe, _html_block(safe.split("\n"), labels=False), msgtype)


def choose_button(text: str, buttons: tuple[Button, ...]) -> Button | None:
    """The button a parent means by '2' or by typing its label; None for free text."""
    answer = text.strip().rstrip(".)").strip()
    if answer.isdigit() and 1 <= int(answer) <= len(buttons):
        return buttons[int(answer) - 1]
    folded = answer.casefold()
    for button in buttons:
        if button.label.strip().casefold() == folded:
            return button
    return None


def strip_reply_fallback(body: str) -> str:
    """Drop the quoted '> <@user> ...' block that some clients put before a reply's text."""
    lines = body.split("\n")
    if not lines or not lines[0].startswith("> "):
        return body
    index = 0
    while index < len(lines) and lines[index].startswith(">"):
        index += 1
    return "\n".join(lines[index:]).lstrip("\n")
