"""The channel's pure parts: settings, 64-byte callback data, long texts and message refs."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.channels.telegram import TelegramSettings, telegram_settings
from bot.channels.telegram.keyboards import (
    callback_data,
    decode_ref,
    encode_ref,
    keyboard,
    pressed,
    split_text,
)
from bot.config import ConfigError, Settings, load_settings
from flows.actions import Button

TOKEN = "123456789:AAE-fake_token_for_tests_only_0123"


def test_the_token_comes_from_the_environment() -> None:
    settings = load_settings(environ={"CJGBOT__CHANNELS__TELEGRAM__TOKEN": TOKEN})
    found = telegram_settings(settings)
    assert found is not None
    assert found.token.get_secret_value() == TOKEN and found.mode == "polling"
    assert TOKEN not in repr(found)


def test_no_telegram_section_means_no_channel(settings: Settings) -> None:
    assert telegram_settings(settings) is None


def test_a_bad_token_is_named_but_not_shown() -> None:
    secret = "not-a-token-but-a-secret-value"
    settings = load_settings(environ={"CJGBOT__CHANNELS__TELEGRAM__TOKEN": secret})
    with pytest.raises(ConfigError) as caught:
        telegram_settings(settings)
    assert str(caught.value).startswith("channels.telegram.token:")
    assert secret not in str(caught.value)


@pytest.mark.parametrize(
    ("values", "complaint"),
    [
        ({"mode": "webhook"}, "webhook_url"),
        ({"mode": "webhook", "webhook_url": "https://bot.cjg.test/tg"}, "webhook_secret"),
        (
            {"mode": "webhook", "webhook_url": "http://bot.cjg.test/tg", "webhook_secret": "s"},
            "https",
        ),
        ({"delete_personal_after_hours": 49}, "less than 48"),
    ],
)
def test_settings_that_cannot_work_are_refused(values: dict[str, object], complaint: str) -> None:
    with pytest.raises(ValidationError) as caught:
        TelegramSettings.model_validate({"token": TOKEN, **values})
    assert complaint in str(caught.value)
    assert TOKEN not in str(caught.value)


def test_webhook_path_follows_the_public_address() -> None:
    found = TelegramSettings.model_validate(
        {
            "token": TOKEN,
            "mode": "webhook",
            "webhook_url": "https://bot.cjg.test/tg/x1",
            "webhook_secret": 12345,
        }
    )
    assert found.webhook_path == "tg/x1"
    assert found.webhook_secret is not None and found.webhook_secret.get_secret_value() == "12345"


def test_callback_data_stays_within_64_bytes() -> None:
    short = Button("Ja", "yes")
    long = Button("Héél lang", "é" * 40)  # 80 bytes in UTF-8
    assert callback_data(short, 0) == "b:yes"
    assert callback_data(long, 3) == "i:3"
    markup = keyboard((short, Button("Nee", "no"), long))
    cells = [cell for row in markup.inline_keyboard for cell in row]
    assert all(len(str(cell.callback_data).encode()) <= 64 for cell in cells)
    assert pressed("b:no", markup) == ("Nee", "no")
    assert pressed("i:2", markup) == ("Héél lang", None)
    assert pressed("rubbish", markup) == (None, None)


def test_buttons_share_rows_while_they_fit() -> None:
    markup = keyboard(
        tuple(
            Button(label, label) for label in ("Jongen", "Meisje", "Anders", "Wil ik niet zeggen")
        )
    )
    assert [[c.text for c in row] for row in markup.inline_keyboard] == [
        ["Jongen", "Meisje", "Anders"],
        ["Wil ik niet zeggen"],
    ]


def test_long_texts_are_split_at_line_breaks() -> None:
    text = "\n".join(f"regel {i} " + "x" * 90 for i in range(100))  # about 10,000 characters
    chunks = split_text(text)
    assert len(chunks) == 3 and all(len(c) <= 4096 for c in chunks)
    assert "\n".join(chunks) == text
    assert split_text("a" * 5000) == ["a" * 4096, "a" * 904]


def test_refs_hold_the_chat_and_every_message() -> None:
    assert encode_ref(4242, [7, 8]) == "tg:4242:7,8"
    assert decode_ref("tg:4242:7,8") == (4242, [7, 8])
    assert decode_ref("console-3") is None
