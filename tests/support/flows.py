"""Support for pure flow tests: a rule-based stand-in for the NLU, a clock helper, a chat driver."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flows import conversation
from flows.actions import Action, HandoverDetails, Reply
from flows.context import FlowContext
from flows.events import ParentEvent, ParentText, parse_command
from flows.state import ConversationState

AMS = ZoneInfo("Europe/Amsterdam")

# What a type-2 handover to a partner holds (made up: no real person).
DETAILS = HandoverDetails(
    summary="Onze zoon wordt gepest.",
    place="Veldhoven",
    age="9 jaar",
    sex="jongen",
    contact="Sanne, +31612345678",
    language="nl",
    promise="maandag tussen 9 en 12 uur iets van ons",
)


@dataclass(frozen=True)
class FakeResult:
    route: str
    topic: str | None = None
    partner: str | None = None
    confidence: float = 0.9
    language: str = "nl"
    crisis_category: str | None = None


# (keyword, result): the first keyword found in the lower-cased text decides.
RULES: list[tuple[str, FakeResult]] = [
    ("niet meer leven", FakeResult("crisis", crisis_category="suicide")),
    ("slaat me", FakeResult("crisis", crisis_category="violence")),
    ("kill myself", FakeResult("crisis", language="en", crisis_category="suicide")),
    ("paspoort", FakeResult("out_of_scope")),
    ("hallo", FakeResult("greet")),
    ("won't sleep", FakeResult("faq", "slapen", language="en")),
    ("slaapt", FakeResult("faq", "slapen")),
    ("driftbui", FakeResult("faq", "driftbuien")),
    ("huisbezoek", FakeResult("partner", partner="zuidzorg")),
    ("gepest", FakeResult("partner", partner="lumens")),
    ("verslaafd", FakeResult("partner", partner="novadic")),
    ("alles loopt mis", FakeResult("all_partners")),
]


class FakeNlu:
    """Stands in for nlu.pipeline.Nlu where a test is about flows, not understanding."""

    def parse(self, text: str) -> FakeResult:
        return fake_understand(text)


def fake_understand(text: str) -> FakeResult:
    lowered = text.lower()
    for keyword, result in RULES:
        if keyword in lowered:
            return result
    english = any(w in lowered.split() for w in ("my", "the", "is", "what", "how"))
    return FakeResult("unclear", confidence=0.1, language="en" if english else "nl")


def at(text: str) -> datetime:
    """'2026-11-27 20:00' in Amsterdam time."""
    return datetime.fromisoformat(text).replace(tzinfo=AMS)


class Chat:
    def __init__(self, ctx: FlowContext, now: datetime) -> None:
        self.ctx = ctx
        self.now = now
        self.state = ConversationState()
        self.actions: list[Action] = []  # everything so far
        self.last: list[Action] = []  # the last turn

    def send(self, event: ParentEvent) -> list[str]:
        self.state, self.last = conversation.handle(self.state, event, self.now, self.ctx)
        self.actions.extend(self.last)
        self.now += timedelta(seconds=30)
        return self.replies()

    def say(self, text: str, button: str | None = None) -> list[str]:
        command = parse_command(text)
        if command is not None and button is None:
            return self.send(command)
        return self.send(ParentText(text, button=button))

    def replies(self) -> list[str]:
        return [a.text for a in self.last if isinstance(a, Reply)]

    def reply_text(self) -> str:
        return "\n".join(self.replies())

    def of(self, kind: type) -> list:
        return [a for a in self.actions if isinstance(a, kind)]

    def last_of(self, kind: type) -> list:
        return [a for a in self.last if isinstance(a, kind)]


# A type-3 intake with FakeNlu: a question for all five partners, then every answer.
TYPE_3_INTAKE = (
    "alles loopt mis thuis",
    "Veldhoven",
    "12",
    "meisje",
    "ja",
    "ouder@voorbeeld.nl",
    "anoniem",
    "ja",
)
