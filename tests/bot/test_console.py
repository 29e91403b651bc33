"""The console channel: buttons as numbers, rooms printed apart, staff acting with /als."""

from __future__ import annotations

import io
from pathlib import Path

from bot.channels.console import ADDRESS, CHANNEL, ConsoleChannel, make_console, run_console
from bot.config import Settings
from support.app import Clock, make_app
from support.flows import FakeNlu, at


async def console(settings: Settings, tmp_path: Path):
    app, _, _ = await make_app(settings, tmp_path, Clock(at("2026-11-27 20:00")), FakeNlu())
    out = io.StringIO()
    parent, rooms = make_console({p.id: p.name for p in settings.partners}, out, colour=False)
    app.rooms = rooms
    app.add_parent_channel(CHANNEL, parent)
    return app, parent, out


async def test_a_scripted_type_2_conversation_and_a_claim(
    settings: Settings, tmp_path: Path
) -> None:
    app, parent, out = await console(settings, tmp_path)
    script = (
        "\n".join(
            [
                "ons kind wordt gepest, kan iemand helpen",
                "Veldhoven",
                "9",
                "1",  # [1] Jongen
                "1",  # [1] Ja, dat is goed
                "06-48213579",
                "Sanne",
                "1",  # [1] Klopt
                "/als lumens claim 1",
                "/als ggd claim 1",
            ]
        )
        + "\n"
    )
    await run_console(app, parent, io.StringIO(script), out, interactive=False)
    text = out.getvalue()
    assert "u> ons kind wordt gepest" in text  # the input is echoed in a transcript
    assert "[1] Jongen" in text and "[2] Meisje" in text
    assert "┌── kamer Lumens" in text and "│ Nieuwe vraag nr. 1" in text
    assert "Kind: 9 jaar, jongen, woonplaats Veldhoven" in text
    assert "opgepakt door Medewerker lumens, Lumens" in text
    assert "al opgepakt door Lumens" in text  # a second claim is refused
    await app.store.close()


async def test_unknown_staff_rooms_and_attachments_get_a_clear_answer(
    settings: Settings, tmp_path: Path
) -> None:
    app, parent, out = await console(settings, tmp_path)
    channel = ConsoleChannel(app, parent, out)
    await channel.handle_line("/als kinderopvang claim 1")
    await channel.handle_line("/bijlage foto")
    text = out.getvalue()
    assert "gebruik: /als" in text
    assert "alleen tekst" in text
    assert ADDRESS == "console-parent"
    await app.store.close()
