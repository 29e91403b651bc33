"""No personal data in any log line, at any level, through a whole conversation."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.config import Settings
from bot.logs import JsonFormatter
from flows.events import ParentText, Staff, parse_command
from support.app import Clock, make_app
from support.flows import FakeNlu, at

SECRETS = (
    "Wolkenkrabberschool",
    "48213579",
    "Jozefien",
    "ouder.zeldzaam@voorbeeld.nl",
    "chat-777000",
)


async def test_no_personal_data_reaches_any_log_line(
    settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    app, _, _ = await make_app(settings, tmp_path, Clock(at("2026-11-27 20:00")), FakeNlu())
    address = "chat-777000"
    for text in (
        "ons kind wordt gepest op de Wolkenkrabberschool, kan iemand helpen",
        "Veldhoven",
        "9",
        "zoon",
        "ja",
        "06-48213579 of ouder.zeldzaam@voorbeeld.nl",
        "Jozefien",
        "ja",
        "/mijngegevens",
    ):
        command = parse_command(text)
        await app.handle_parent("console", address, command or ParentText(text))
    staff = Staff("Eva", "lumens", "@eva:cjg.test")
    await app.handle_room_message("lumens", staff, "!claim 1")
    await app.handle_parent("console", address, parse_command("/vergeet"))  # type: ignore[arg-type]
    await app.handle_parent("console", address, ParentText("ja"))
    await app.store.close()
    assert caplog.records, "the run logs something"
    formatter = JsonFormatter()
    for record in caplog.records:
        for rendered in (record.getMessage(), formatter.format(record)):
            for secret in SECRETS:
                assert secret not in rendered, f"{record.name} logged personal data"
