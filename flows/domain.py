"""The CJG's partners and the rules that pick where a question goes.

Pure data and functions: the configuration builds `Partner` objects; the flows ask
`choose_partners` which room(s) a help question goes to.
"""

from __future__ import annotations

from dataclasses import dataclass

LOKET = "loket"


@dataclass(frozen=True, slots=True)
class Partner:
    """One organisation behind the loket (ids from shared/domain/partners.yml)."""

    id: str
    name: str
    cjg_partner: bool
    min_age: float
    max_age: float

    def serves_age(self, years: float | None) -> bool:
        return years is None or self.min_age <= years <= self.max_age


# For a type-1 topic that turns into a help question, the partner that usually helps.
# A tuple (young, older) means: young children (< 4 or unborn) go to the first.
TOPIC_PARTNER: dict[str, str | tuple[str, str]] = {
    "slapen": ("zuidzorg", "lumens"),
    "huilen_baby": "zuidzorg",
    "driftbuien": ("zuidzorg", "lumens"),
    "zindelijkheid": ("zuidzorg", "ggd"),
    "bedplassen": "ggd",
    "eten": ("zuidzorg", "ggd"),
    "voeding_baby": "zuidzorg",
    "schermtijd": "lumens",
    "online_veiligheid": "lumens",
    "grenzen_stellen": "lumens",
    "broers_zussen": "lumens",
    "pesten": "lumens",
    "puberteit": "lumens",
    "seksuele_ontwikkeling": ("zuidzorg", "ggd"),
    "scheiding": "lumens",
    "rouw": "lumens",
    "angst": "lumens",
    "taalontwikkeling": ("zuidzorg", "ggd"),
    "ontwikkeling": ("zuidzorg", "ggd"),
    "vaccinaties": ("zuidzorg", "ggd"),
    "consultatiebureau": ("zuidzorg", "ggd"),
    "hoofdluis": "ggd",
    "zakgeld": "lumens",
    "school_huiswerk": "lumens",
    "alcohol_drugs": "novadic",
    "gezonde_leefstijl": ("zuidzorg", "ggd"),
    "ouderschap": "lumens",
    "adhd_concentratie": "ggd",
    "opvoedcursus": "lumens",
}

YOUTH_HEALTH = ("zuidzorg", "ggd")


def _young(years: float | None, unborn: bool) -> bool:
    return unborn or (years is not None and years < 4)


def choose_partners(
    partners: dict[str, Partner],
    route: str,
    partner_hint: str | None,
    topic: str | None,
    years: float | None,
    unborn: bool,
) -> tuple[str, ...]:
    """The partner ids a help question is offered to.

    `partner` route: the classifier's partner, corrected by age between the two
    youth-health organisations; a topic that became a help question maps through
    TOPIC_PARTNER; anything unclear becomes type 3 (all CJG partners).
    """
    if route == "crisis":
        return (LOKET,)
    chosen: str | None = None
    if route == "partner" and partner_hint in partners:
        chosen = partner_hint
    elif topic in TOPIC_PARTNER:
        mapped = TOPIC_PARTNER[topic]
        if isinstance(mapped, tuple):
            known_age = unborn or years is not None
            chosen = (mapped[0] if _young(years, unborn) else mapped[1]) if known_age else None
        else:
            chosen = mapped
    if chosen in YOUTH_HEALTH and (unborn or years is not None):
        chosen = "zuidzorg" if _young(years, unborn) else "ggd"
        if years is not None and years > partners[chosen].max_age:
            chosen = None
    if chosen is None or chosen not in partners:
        return all_partner_ids(partners)
    return (chosen,)


def all_partner_ids(partners: dict[str, Partner]) -> tuple[str, ...]:
    """The type-3 recipients: every partner with cjg_partner (never the gemeente)."""
    return tuple(p.id for p in partners.values() if p.cjg_partner)


def handover_type(targets: tuple[str, ...]) -> str:
    """'2', '3' or 'crisis', as the loket registers it."""
    if targets == (LOKET,):
        return "crisis"
    return "2" if len(targets) == 1 else "3"
