"""Staff commands typed in the loket and partner rooms ("!claim 12"): parsing only."""

from __future__ import annotations

from dataclasses import dataclass

ROOM_COMMANDS = (
    "claim",
    "release",
    "route",
    "close",
    "open",
    "help",
    "casusoverleg",
    "klantmanager",
    "dienst",
)
LOKET_ONLY = ("route", "close", "open", "casusoverleg", "klantmanager", "dienst")
NEEDS_NUMBER = ("claim", "release", "route", "close", "casusoverleg", "klantmanager")
ALL_PARTNERS_WORDS = ("alle", "all", "type3")
CLOSE_REASON_WORDS = {
    "afgehandeld": "handled",
    "handled": "handled",
    "casusoverleg": "casusoverleg",
    "klantmanager": "klantmanager",
}


@dataclass(frozen=True, slots=True)
class RoomCommand:
    name: str
    number: int | None = None
    arg: str = ""


@dataclass(frozen=True, slots=True)
class BadCommand:
    reason: str  # catalogue key for the reply


def parse_room_command(text: str) -> RoomCommand | BadCommand | None:
    """'!route 12 lumens' -> RoomCommand('route', 12, 'lumens'); chat that is no command -> None."""
    stripped = text.strip()
    if not stripped.startswith("!"):
        return None
    words = stripped[1:].split()
    if not words:
        return None
    name = words[0].lower()
    if name not in ROOM_COMMANDS:
        return BadCommand("room_bad_command")
    number: int | None = None
    if name in NEEDS_NUMBER:
        if len(words) < 2 or not words[1].lstrip("#").isdigit():
            return BadCommand("room_bad_command")
        number = int(words[1].lstrip("#"))
    arg = " ".join(words[2:]).lower() if name in NEEDS_NUMBER else " ".join(words[1:]).lower()
    if name == "route" and not arg:
        return BadCommand("room_bad_partner")
    if name == "dienst" and not arg:
        return BadCommand("room_bad_command")
    return RoomCommand(name, number, arg)
