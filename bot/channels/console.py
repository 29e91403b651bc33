"""The console channel: be the parent in a terminal, and act as loket or partner staff.

Interactive use shows buttons as numbers; piped standard input is read one message per
line, so whole conversations can be scripted. `/als <room> <command>` acts in a room,
e.g. `/als lumens claim 3` or `/als loket route 3 ggd`.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Callable
from typing import TextIO

from bot.app import App
from flows.actions import Button, Reply
from flows.domain import LOKET
from flows.events import ParentText, ParentUnsupported, Staff, parse_command
from flows.room_commands import parse_room_command

CHANNEL = "console"
ADDRESS = "console-parent"
STAFF_PREFIX = "/als"
UNSUPPORTED_PREFIX = "/bijlage"  # simulate a photo, voice note, ...: "/bijlage foto"


class _Style:
    def __init__(self, colour: bool) -> None:
        self.colour = colour

    def paint(self, code: str, text: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.colour else text


class ConsoleParent:
    """Prints the bot's replies to the parent and remembers the last buttons."""

    def __init__(self, out: TextIO, style: _Style) -> None:
        self.out = out
        self.style = style
        self.buttons: tuple[Button, ...] = ()
        self.count = 0

    async def send(self, address: str, reply: Reply) -> str | None:
        self.count += 1
        lines = reply.text.splitlines() or [""]
        self.out.write(self.style.paint("36", "bot> ") + lines[0] + "\n")
        for line in lines[1:]:
            self.out.write("     " + line + "\n")
        if reply.buttons:
            self.buttons = reply.buttons
            shown = "  ".join(f"[{i}] {b.label}" for i, b in enumerate(reply.buttons, 1))
            self.out.write("     " + self.style.paint("2", shown) + "\n")
        self.out.flush()
        return f"console-{self.count}"


class ConsoleRooms:
    """Prints room posts in a visibly separate style; redactions are shown as such."""

    def __init__(self, out: TextIO, style: _Style, names: dict[str, str]) -> None:
        self.out = out
        self.style = style
        self.names = names
        self.count = 0

    def _room(self, room: str) -> str:
        return "loket" if room == LOKET else self.names.get(room, room)

    async def post(
        self, room: str, text: str, kind: str, handover: int | None, mention: str | None = None
    ) -> str | None:
        self.count += 1
        ref = f"post-{self.count}"
        header = f"┌── kamer {self._room(room)} ({ref}) "
        self.out.write(self.style.paint("35", header.ljust(60, "─")) + "\n")
        if mention:
            self.out.write(self.style.paint("35", "│ ") + f"@ {mention}" + "\n")
        for line in text.splitlines():
            self.out.write(self.style.paint("35", "│ ") + line + "\n")
        self.out.write(self.style.paint("35", "└" + "─" * 59) + "\n")
        self.out.flush()
        return ref

    async def redact(self, room: str, message_ref: str) -> None:
        self.out.write(
            self.style.paint(
                "35", f"   (kamer {self._room(room)}: bericht {message_ref} verwijderd)"
            )
            + "\n"
        )


class ConsoleChannel:
    def __init__(self, app: App, parent: ConsoleParent, out: TextIO) -> None:
        self.app = app
        self.parent = parent
        self.out = out

    async def handle_line(self, line: str) -> None:
        text = line.rstrip("\n")
        stripped = text.strip()
        if stripped.startswith(STAFF_PREFIX + " ") or stripped == STAFF_PREFIX:
            await self._staff(stripped[len(STAFF_PREFIX) :].strip())
            return
        if stripped.startswith(UNSUPPORTED_PREFIX):
            kind = stripped[len(UNSUPPORTED_PREFIX) :].strip() or "bestand"
            await self.app.handle_parent(CHANNEL, ADDRESS, ParentUnsupported(kind))
            return
        command = parse_command(stripped)
        if command is not None:
            await self.app.handle_parent(CHANNEL, ADDRESS, command)
            return
        button = self._button(stripped)
        event = ParentText(button.label, button=button.value) if button else ParentText(text)
        self.parent.buttons = ()
        await self.app.handle_parent(CHANNEL, ADDRESS, event)

    def _button(self, text: str) -> Button | None:
        if text.isdigit() and 1 <= int(text) <= len(self.parent.buttons):
            return self.parent.buttons[int(text) - 1]
        return None

    async def _staff(self, rest: str) -> None:
        room, _, command_text = rest.partition(" ")
        room = room.lower()
        if room not in self.app.staff_context.partners and room != LOKET:
            self.out.write(
                "(gebruik: /als <loket|partner-id> <commando>, bv. /als lumens claim 3)\n"
            )
            return
        name = "Loketmedewerker" if room == LOKET else f"Medewerker {room}"
        staff = Staff(name=name, organisation=room, staff_id=f"console-{room}")
        text = command_text if command_text.startswith("!") else "!" + command_text
        if parse_room_command(text) is None:
            return
        for answer in await self.app.handle_room_message(room, staff, text):
            await self.app.rooms.post(room, answer, "status", None)


async def run_console(
    app: App, parent: ConsoleParent, source: TextIO, out: TextIO, interactive: bool
) -> None:
    channel = ConsoleChannel(app, parent, out)
    if interactive:
        out.write(
            "Typ uw bericht. /help voor hulp, /als <kamer> <commando> als medewerker, "
            "Ctrl-D om te stoppen.\n"
        )
    while True:
        if interactive:
            try:
                line = await _in_daemon_thread(input, "u> ")
            except EOFError:
                break
        else:
            line = await _in_daemon_thread(source.readline)
            if not line:
                break
            out.write(f"u> {line.rstrip()}\n")
        await channel.handle_line(line)


async def _in_daemon_thread(read: Callable[..., str], *args: str) -> str:
    """Read a line without holding up shutdown: on SIGTERM the bot stops at once, even
    while it waits for input (asyncio's own threads would wait for the line)."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[str] = loop.create_future()

    def work() -> None:
        try:
            result: str | BaseException = read(*args)
        except BaseException as exc:  # EOFError, KeyboardInterrupt: to the caller
            result = exc
        if not loop.is_closed():
            loop.call_soon_threadsafe(_settle, future, result)

    threading.Thread(target=work, name="console-input", daemon=True).start()
    return await future


def _settle(future: asyncio.Future[str], result: str | BaseException) -> None:
    if future.done():
        return
    if isinstance(result, BaseException):
        future.set_exception(result)
    else:
        future.set_result(result)


def make_console(
    app_names: dict[str, str], out: TextIO = sys.stdout, colour: bool | None = None
) -> tuple[ConsoleParent, ConsoleRooms]:
    style = _Style(out.isatty() if colour is None else colour)
    return ConsoleParent(out, style), ConsoleRooms(out, style, app_names)
