"""Events the flows react to: what a parent, a staff member or a timer did.

Channel adapters translate their updates into these; the flows never see a channel.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nlu.pipeline import NluResult

PARENT_COMMANDS = (
    "start",
    "help",
    "privacy",
    "stop",
    "opnieuw",
    "mijngegevens",
    "vergeet",
    "verzoek",
)
COMMAND_ALIASES = {
    "restart": "opnieuw",
    "mydata": "mijngegevens",
    "forget": "vergeet",
    "request": "verzoek",
    "hulp": "help",
}


@dataclass(frozen=True, slots=True)
class ParentText:
    """A message typed by a parent (or a button pressed: `button` holds its value)."""

    text: str
    nlu: NluResult | None = None
    button: str | None = None


@dataclass(frozen=True, slots=True)
class HandoverView:
    """What /mijngegevens shows of one of the parent's handovers (loaded by the app)."""

    number: int
    status: str
    purge_at: datetime | None
    summary: str | None
    contact: str | None


@dataclass(frozen=True, slots=True)
class ParentCommand:
    """A slash command such as /privacy; `arg` is what followed (e.g. a /start source)."""

    name: str
    arg: str = ""
    handovers: tuple[HandoverView, ...] = ()


@dataclass(frozen=True, slots=True)
class ParentUnsupported:
    """Something that is not text: a photo, voice note, sticker, location, ..."""

    kind: str


@dataclass(frozen=True, slots=True)
class ConversationExpired:
    """The parent went quiet: close what is open and let the data go."""


ParentEvent = ParentText | ParentCommand | ParentUnsupported | ConversationExpired


def parse_command(text: str) -> ParentCommand | None:
    """'/Privacy' -> ParentCommand('privacy'); unknown or non-commands -> None."""
    stripped = text.strip()
    if not stripped.startswith("/") or len(stripped) < 2:
        return None
    head, _, arg = stripped[1:].partition(" ")
    name = head.split("@", 1)[0].lower()
    name = COMMAND_ALIASES.get(name, name)
    if name not in PARENT_COMMANDS:
        return None
    return ParentCommand(name, arg.strip())


# --- staff events (partner and loket rooms) ---


@dataclass(frozen=True, slots=True)
class Staff:
    """Who acted in a room: display name, organisation id (or 'loket'), opaque staff id."""

    name: str
    organisation: str
    staff_id: str


@dataclass(frozen=True, slots=True)
class Offer:
    """Offer a new handover to its rooms."""


@dataclass(frozen=True, slots=True)
class Claim:
    staff: Staff


@dataclass(frozen=True, slots=True)
class Release:
    staff: Staff


@dataclass(frozen=True, slots=True)
class Reroute:
    """The loket sends the handover to one partner, or to all CJG partners (partner None)."""

    staff: Staff
    partner: str | None


@dataclass(frozen=True, slots=True)
class Close:
    """The loket closes: 'handled', 'casusoverleg' or 'klantmanager'."""

    staff: Staff
    reason: str = "handled"


@dataclass(frozen=True, slots=True)
class Escalate:
    """The loket brings an unclaimed handover to the casusoverleg."""

    staff: Staff


@dataclass(frozen=True, slots=True)
class Tick:
    """A timer woke the workflow: send reminders that are due."""


@dataclass(frozen=True, slots=True)
class Forget:
    """The parent asked to delete everything now."""


HandoverEvent = Offer | Claim | Release | Reroute | Close | Escalate | Tick | Forget
