"""Structured JSON logs with event names and opaque ids only, never personal data.

Only whitelisted `extra` fields are written; a log call cannot leak message text by
accident because arbitrary fields and exception values are not formatted.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

SAFE_FIELDS = (
    "event_type",
    "step",
    "channel",
    "handover",
    "count",
    "room",
    "duration_ms",
    "status",
    "kind",
    "attempt",
)


OWN_LOGGERS = ("cjgbot", "nlu", "bot", "storage", "flows")

# One encoder for every line (json.dumps with options builds a new one each call).
_ENCODE = json.JSONEncoder(ensure_ascii=False).encode


class JsonFormatter(logging.Formatter):
    """One JSON object a line. Runs for every message the bot handles, so it is kept lean."""

    def __init__(self) -> None:
        super().__init__()
        self._second = -1
        self._second_text = ""

    def _time(self, created: float) -> str:
        """ISO 8601 in UTC with milliseconds ("2026-11-25T07:35:15.537+00:00")."""
        second = int(created)
        if second != self._second:  # formatted once a second
            self._second = second
            self._second_text = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
        return f"{self._second_text}.{int((created - second) * 1000):03d}+00:00"

    def format(self, record: logging.LogRecord) -> str:
        fields = record.__dict__
        entry: dict[str, object] = {
            "time": self._time(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            # Our own loggers log fixed event names; a library's message text may quote data.
            "event": record.msg
            if isinstance(record.msg, str) and record.name.startswith(OWN_LOGGERS)
            else f"{record.module}.{record.funcName}",
        }
        for name in SAFE_FIELDS:
            if name in fields:
                entry[name] = fields[name]
        if record.exc_info and record.exc_info[0] is not None:
            # The exception type only: its message may quote data.
            entry["error"] = record.exc_info[0].__name__
        return _ENCODE(entry)


def setup_logging(level: str = "INFO") -> None:
    # The formatter writes none of these: do not look them up for every record.
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Libraries whose debug or info lines can hold message text or tokens (httpx logs the
    # Telegram URL with the bot token; python-telegram-bot logs update contents).
    for noisy in (
        "sqlalchemy",
        "aiosqlite",
        "alembic",
        "httpx",
        "httpcore",
        "apscheduler",
        "telegram",
        "tornado",
        "nio",
        "aiohttp",
        "peewee",
    ):
        logging.getLogger(noisy).setLevel(logging.WARNING)
