"""The persistent state of one parent conversation and of one handover.

Pydantic models so that the app can store them as JSON (encrypted) and load them
again after a restart; the flows only read and return them.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field


class Step(StrEnum):
    NEW = "new"
    ASK = "ask"  # waiting for a question
    CLARIFY = "clarify"  # asked one clarifying question
    OFFER_PERSON = "offer_person"  # still unclear: pass on to a person?
    HELPED = "helped"  # FAQ answered: did it help?
    PLACE = "place"
    AGE = "age"
    SEX = "sex"
    DISCLOSE = "disclose"
    CONTACT = "contact"
    NAME = "name"
    SUMMARY = "summary"
    SUMMARY_EDIT = "summary_edit"
    CRISIS_OFFER = "crisis_offer"
    FORGET_CONFIRM = "forget_confirm"
    RIGHTS_REQUEST = "rights_request"  # a correction or objection for the loket


INTAKE_STEPS = (Step.PLACE, Step.AGE, Step.SEX)


class Slot(StrEnum):
    """How an intake value was settled."""

    OPEN = ""
    GIVEN = "given"
    DECLINED = "declined"
    UNKNOWN = "unknown"


class Question(BaseModel):
    """The question in hand and what was learned about it. Holds personal data."""

    text: str = ""
    route: str = ""
    topic: str | None = None
    partner_hint: str | None = None
    targets: list[str] = Field(default_factory=list)
    urgent: bool = False
    crisis_category: str | None = None
    registered: bool = False
    place: str | None = None
    place_slot: Slot = Slot.OPEN
    age_years: float | None = None
    age_unborn: bool = False
    age_slot: Slot = Slot.OPEN
    sex: str | None = None
    sex_slot: Slot = Slot.OPEN
    phone: str | None = None
    email: str | None = None
    prefers: str | None = None
    name: str | None = None
    anonymous: bool = False
    contact_missing: bool = False
    summary: str | None = None


class ConversationState(BaseModel):
    step: Step = Step.NEW
    language: str = "nl"
    source: str | None = None
    tries: int = 0
    resume: Step | None = None
    question: Question | None = None
    handovers: list[int] = Field(default_factory=list)
    last_activity: datetime | None = None


class HandoverStatus(StrEnum):
    CREATED = "created"
    OFFERED = "offered"
    CLAIMED = "claimed"
    RELEASED = "released"
    CLOSED = "closed"


OPEN_STATUSES = (HandoverStatus.CREATED, HandoverStatus.OFFERED, HandoverStatus.RELEASED)


class HandoverState(BaseModel):
    number: int
    targets: list[str]
    status: HandoverStatus = HandoverStatus.CREATED
    urgent: bool = False
    created_at: datetime
    waiting_since: datetime | None = None  # when ownership last became unresolved
    claimed_at: datetime | None = None
    claimed_org: str | None = None
    claimed_name: str | None = None
    reminders_sent: int = 0
    promised_by: datetime | None = None  # the parent was told to expect a reply before this
    escalated: str | None = None  # "casusoverleg" while the loket brings it there
    closed_reason: str | None = None
    purge_at: datetime | None = None
    forgotten: bool = False
