"""What a flow may know besides its state and the event: texts, partners, office hours.

Everything here is pure data or pure computation, handed in by the app.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from flows.domain import Partner
from flows.office_hours import OfficeHours
from flows.texts import Catalogue

if TYPE_CHECKING:
    from nlu.pipeline import NluResult

MAX_RETENTION_DAYS = 28


@dataclass(frozen=True)
class FlowContext:
    catalogue: Catalogue
    partners: dict[str, Partner]
    office_hours: OfficeHours
    understand: Callable[[str], NluResult]
    faq_answers: dict[tuple[str, str], str]  # (topic, language) -> answer
    # The crisis lexicon alone (a category for explicit danger words, else None): all a
    # plain answer such as "Veldhoven" needs. None: such answers go through `understand`.
    danger: Callable[[str], str | None] | None = None
    cjg_name: str = "het CJG"
    responsible: str = "het CJG"
    retention_days: int = MAX_RETENTION_DAYS
    max_message_chars: int = 2000
    reminder_after_working_hours: float = 4.0
    channel: str = "console"
    extra: dict[str, str] = field(default_factory=dict)

    def partner_name(self, partner_id: str, lang: str = "nl") -> str:
        if partner_id in self.partners:
            return self.partners[partner_id].name
        return self.catalogue.get("loket_name", lang)

    def faq_answer(self, topic: str, lang: str) -> str | None:
        return self.faq_answers.get((topic, lang)) or self.faq_answers.get((topic, "nl"))
