"""Actions the flows return: what the app must do (reply, post, register, schedule).

Actions are plain data; `bot.app` executes them with the channels and storage.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Button:
    label: str
    value: str


@dataclass(frozen=True, slots=True)
class Reply:
    """A message to the parent, with optional choice buttons."""

    text: str
    buttons: tuple[Button, ...] = ()
    personal: bool = False  # holds personal data: channels that cannot delete later keep track


@dataclass(frozen=True, slots=True)
class Registration:
    """One anonymous statistics record (PRODUCT.md "Anonymous registration")."""

    month: str  # "2026-11": a coarse date, never an exact time
    type: str  # "1" | "2" | "3" | "crisis" | "out_of_scope"
    topic: str | None
    forwarded_to: str | None  # partner id, "alle", "loket", "niet_gedeeld" or None
    age_band: str
    sex: str
    place: str
    channel: str
    source: str | None = None


@dataclass(frozen=True, slots=True)
class Register:
    registration: Registration


@dataclass(frozen=True, slots=True)
class HandoverDetails:
    """What a partner needs to pick up a question: personal data, stored encrypted."""

    summary: str
    place: str
    age: str
    sex: str
    contact: str
    language: str
    promise: str


@dataclass(frozen=True, slots=True)
class CreateHandover:
    """Make a new handover (the app numbers it and runs the handover workflow)."""

    targets: tuple[str, ...]
    details: HandoverDetails
    urgent: bool = False
    promised_by: datetime | None = None  # the end of the window promised to the parent


@dataclass(frozen=True, slots=True)
class UrgentFlag:
    """Tell the loket at once that a conversation may involve danger (no content)."""

    category: str
    followup_handover: bool = False


@dataclass(frozen=True, slots=True)
class NotifyLoket:
    """A content-free note for the loket room (catalogue key + safe parameters)."""

    key: str
    params: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class NotifyParent:
    """A message to the parent of a handover (e.g. a new reply-time promise)."""

    handover: int
    key: str
    params: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ForgetParent:
    """Delete everything about this parent now, including handovers and room copies."""


@dataclass(frozen=True, slots=True)
class EndConversation:
    """The conversation is finished: its personal data is due for deletion at `purge_at`."""

    purge_at: datetime


@dataclass(frozen=True, slots=True)
class RoomPost:
    """A message in a room ('loket' or a partner id). `kind` lets the app track copies."""

    room: str
    text: str
    kind: str  # "handover" | "contact" | "status" | "reminder" | "note" | "form"
    handover: int | None = None
    personal: bool = False
    attention: bool = False  # the loketmedewerker on duty should act: mention them


@dataclass(frozen=True, slots=True)
class RemoveCopies:
    """Redact the bot's posts about a handover in these rooms (and 'loket' if listed)."""

    handover: int
    rooms: tuple[str, ...]
    kinds: tuple[str, ...] = ("handover", "contact")


@dataclass(frozen=True, slots=True)
class CommandReply:
    """An answer to a staff member's command, in the room where it was given."""

    text: str


@dataclass(frozen=True, slots=True)
class Audit:
    """An audit event: time, actor role, organisation and opaque ids; never personal data."""

    event: str
    actor_role: str  # "parent" | "partner" | "loket" | "system"
    organisation: str | None = None
    handover: int | None = None


@dataclass(frozen=True, slots=True)
class SetPurgeDeadline:
    """The handover's personal data is due for deletion at `at` (None: no clock runs)."""

    handover: int
    at: datetime | None


Action = (
    Reply
    | Register
    | CreateHandover
    | UrgentFlag
    | NotifyLoket
    | ForgetParent
    | NotifyParent
    | EndConversation
    | RoomPost
    | RemoveCopies
    | CommandReply
    | Audit
    | SetPurgeDeadline
)
