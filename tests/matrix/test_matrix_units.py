"""The Matrix channel's pure parts: rendering, settings, checkpoint, retry policy."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from nio import RoomSendError

from bot.channels.matrix.checkpoint import MAX_DONE, Checkpoint, CheckpointStore
from bot.channels.matrix.render import (
    WORD_JOINER,
    choose_button,
    neutralise,
    parent_reply_content,
    room_post_content,
    strip_reply_fallback,
)
from bot.channels.matrix.retry import Permanent, RetryStats, Transient, check, retrying
from bot.channels.matrix.settings import MatrixSettings, configured_rooms, matrix_settings
from bot.config import ConfigError, Settings
from flows.actions import Button, Reply
from storage.crypto import FieldCipher
from storage.database import open_database
from storage.repository import Store

HANDOVER = (
    "Nieuwe vraag nr. 7 (type 2)\nVoor: Lumens\nKind: 9 jaar, jongen, woonplaats Veldhoven\n"
    "Vraag: <script>alert(1)</script> @room help @eva:cjg.test\n"
    "Beloofd aan ouder: reactie maandag tussen 9 en 12 uur iets van ons\n"
    "Oppakken: reageer met ✅ of typ !claim 7\nContact: ouder@voorbeeld.nl"
)


def test_mentions_and_room_pings_are_neutralised_but_addresses_stay_usable() -> None:
    text = neutralise("@room @ROOM @eva:cjg.test #loket:cjg.test matrix.to/#/@x:y ouder@vb.nl")
    assert "@room" not in text.lower()
    assert "@eva:" not in text and "#loket:" not in text and "/@x:" not in text
    assert "ouder@vb.nl" in text  # an e-mail address is not a mention
    plain = "bel +31648213579 om 20:00, !claim 3"
    assert neutralise(plain) == plain
    assert text.replace(WORD_JOINER, "") == (
        "@room @ROOM @eva:cjg.test #loket:cjg.test matrix.to/#/@x:y ouder@vb.nl"
    )


def test_a_handover_post_has_a_readable_html_body_and_nothing_injected() -> None:
    content = room_post_content(HANDOVER, "handover")
    html, body = content["formatted_body"], content["body"]
    assert content["m.mentions"] == {}
    assert html.startswith("<p><strong>Nieuwe vraag nr. 7 (type 2)</strong></p>")
    assert "<b>Kind:</b> 9 jaar" in html and "<b>Beloofd aan ouder:</b>" in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    for part in ("Lumens", "Veldhoven", "maandag", "ouder@voorbeeld.nl", "nr. 7"):
        assert part in body and part in html
    for text in (body, html):
        assert "@room" not in text and "@eva:cjg.test" not in text


def test_status_posts_are_notices_and_handover_posts_are_messages() -> None:
    assert room_post_content("Vraag nr. 1 is gesloten.", "status")["msgtype"] == "m.notice"
    assert room_post_content(HANDOVER, "handover")["msgtype"] == "m.text"


def test_parent_replies_show_buttons_as_a_numbered_list_and_answers_map_back() -> None:
    buttons = (Button("Ja", "yes"), Button("Nee, liever niet", "no"))
    content = parent_reply_content(Reply("Mag ik uw vraag doorgeven?", buttons))
    assert content["body"].endswith("1. Ja\n2. Nee, liever niet")
    assert "<ol><li>Ja</li><li>Nee, liever niet</li></ol>" in content["formatted_body"]
    assert choose_button("2", buttons) == buttons[1]
    assert choose_button(" ja ", buttons) == buttons[0]
    assert choose_button("3", buttons) is None
    assert choose_button("ja hoor, graag", buttons) is None
    assert choose_button("9", ()) is None  # an age stays an age when no buttons are open


def test_the_quoted_part_of_a_reply_is_dropped() -> None:
    body = "> <@bot:cjg.test> Hoe oud is uw kind?\n\n9"
    assert strip_reply_fallback(body) == "9"
    assert strip_reply_fallback("9") == "9"


def test_settings_need_credentials_and_name_the_bad_key(settings: Settings) -> None:
    good = {"homeserver": "https://matrix.cjg.example", "user_id": "@bot:cjg.example",
            "password": 123456}
    config = MatrixSettings.model_validate(good)
    assert config.password is not None and config.password.get_secret_value() == "123456"
    assert "123456" not in repr(config)
    for bad, key in (
        ({**good, "password": None}, "channels.matrix: set a password"),
        ({**good, "user_id": "bot"}, "channels.matrix.user_id"),
        ({**good, "homeserver": "matrix.example"}, "channels.matrix.homeserver"),
        ({**good, "typo": 1}, "channels.matrix.typo"),
    ):
        broken = settings.model_copy(update={"channels": {"matrix": bad}})
        with pytest.raises(ConfigError, match=key):
            MatrixSettings.from_settings(broken)


def test_room_ids_come_from_the_loket_and_partner_settings(settings: Settings) -> None:
    loket = settings.loket.model_copy(update={"room": "!loket:cjg.test"})
    partners = [p.model_copy(update={"room": f"!{p.id}"}) for p in settings.partners]
    configured = settings.model_copy(update={"loket": loket, "partners": partners})
    rooms = configured_rooms(configured)
    assert rooms["loket"] == "!loket:cjg.test" and rooms["lumens"] == "!lumens"
    twice = [p.model_copy(update={"room": "!same:cjg.test"}) for p in settings.partners]
    with pytest.raises(ConfigError, match="twice"):
        configured_rooms(settings.model_copy(update={"partners": twice}))
    with pytest.raises(ConfigError, match="loket.room"):
        configured_rooms(settings.model_copy(
            update={"loket": settings.loket.model_copy(update={"room": "loket"})}))


async def test_the_checkpoint_survives_a_new_store_and_stays_small(tmp_path: Path) -> None:
    async def store() -> Store:
        engine = await open_database(f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}")
        return Store(engine, FieldCipher.from_environment(tmp_path / "secret.key"))

    first = await store()
    checkpoints = CheckpointStore(first, "@bot:cjg.test")
    assert await checkpoints.load() == Checkpoint()
    checkpoint = Checkpoint("s72_1")
    for index in range(MAX_DONE + 50):
        checkpoint.mark(f"$event{index}")
    await checkpoints.save(checkpoint)
    await first.close()
    second = await store()
    loaded = await CheckpointStore(second, "@bot:cjg.test").load()
    await second.close()
    assert loaded.since == "s72_1"
    assert loaded.is_done(f"$event{MAX_DONE + 49}") and not loaded.is_done("$event0")
    assert len(loaded.done) == MAX_DONE


def _error(status: int, errcode: str, retry_after_ms: int | None = None) -> RoomSendError:
    error = RoomSendError("nope", errcode, retry_after_ms)
    error.transport_response = SimpleNamespace(status=status)  # type: ignore[assignment]
    return error


def test_errors_are_sorted_into_wait_and_give_up() -> None:
    with pytest.raises(Transient) as limited:
        check(_error(429, "M_LIMIT_EXCEEDED", 1500), "send")
    assert limited.value.retry_after_s == 1.5
    with pytest.raises(Transient):
        check(_error(502, "M_UNKNOWN"), "send")
    with pytest.raises(Permanent) as forbidden:
        check(_error(403, "M_FORBIDDEN"), "send")
    assert forbidden.value.status == "M_FORBIDDEN"


async def test_retrying_waits_the_servers_retry_after_then_succeeds() -> None:
    answers = [_error(429, "M_LIMIT_EXCEEDED", 50), ConnectionError(), "ok"]

    async def call() -> object:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    stats = RetryStats()
    assert await retrying(call, "send", max_wait_s=0.1, stats=stats) == "ok"
    assert stats.retried == 2 and stats.rate_limited == 1


def test_a_disabled_or_absent_matrix_channel_has_no_settings(settings: Settings) -> None:
    assert matrix_settings(settings.model_copy(update={"channels": {}})) is None
    off = settings.model_copy(update={"channels": {"matrix": {"enabled": False}}})
    assert matrix_settings(off) is None
