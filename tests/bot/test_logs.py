"""The JSON log format: fixed event names and whitelisted fields only."""

from __future__ import annotations

import json
import logging

from bot.logs import JsonFormatter


def record(name: str, msg: str, *args: object, **extra: object) -> logging.LogRecord:
    item = logging.LogRecord(name, logging.WARNING, "x.py", 1, msg, args, None, func="send")
    for key, value in extra.items():
        setattr(item, key, value)
    return item


def test_own_events_keep_their_name_and_only_safe_fields() -> None:
    line = json.loads(
        JsonFormatter().format(
            record("cjgbot.app", "parent_event", channel="matrix", text="0612345678")
        )
    )
    assert line["event"] == "parent_event" and line["channel"] == "matrix"
    assert "text" not in line and "0612345678" not in json.dumps(line)


def test_library_messages_and_arguments_never_reach_the_log() -> None:
    line = JsonFormatter().format(
        record("nio.rooms", "Room !abc:cjg.test message from @ouder:cjg.test: %s", "Sanne")
    )
    assert "@ouder" not in line and "Sanne" not in line and "!abc" not in line
    assert json.loads(line)["logger"] == "nio.rooms"
