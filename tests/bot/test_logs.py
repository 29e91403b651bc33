"""The JSON log format: fixed event names and whitelisted fields only."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta

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


def test_the_time_is_utc_to_the_millisecond_across_seconds() -> None:
    formatter = JsonFormatter()
    for created in (1764057600.0, 1764057600.9994, 1764057601.0005, 1764060000.25):
        item = record("cjgbot.app", "parent_event")
        item.created = created
        stamp = datetime.fromisoformat(json.loads(formatter.format(item))["time"])
        assert stamp.utcoffset() == timedelta(0)
        assert abs(stamp.timestamp() - created) < 0.001
