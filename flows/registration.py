"""The anonymous registration record of one question (PRODUCT.md "Anonymous registration").

Only coarse, countable values: no ids, no free text, no exact time.
"""

from __future__ import annotations

from datetime import datetime

from flows.actions import Registration
from flows.state import Question, Slot

AGE_BANDS = ("-9m-4", "4-12", "12-18", "18-23", "23+", "onbekend")


def age_band(question: Question) -> str:
    if question.age_slot != Slot.GIVEN:
        return "onbekend"
    if question.age_unborn:
        return "-9m-4"
    years = question.age_years if question.age_years is not None else -1.0
    if years < 0:
        return "onbekend"
    for limit, band in ((4, "-9m-4"), (12, "4-12"), (18, "12-18"), (23, "18-23")):
        if years < limit:
            return band
    return "23+"


def make_registration(
    question: Question,
    kind: str,
    forwarded: str | None,
    now: datetime,
    channel: str,
    source: str | None,
) -> Registration:
    sex = question.sex if question.sex_slot == Slot.GIVEN and question.sex else "onbekend"
    if question.age_unborn:
        sex = "ongeboren"
    place = question.place if question.place_slot == Slot.GIVEN and question.place else "onbekend"
    return Registration(
        month=f"{now.year:04d}-{now.month:02d}",
        type=kind,
        topic=question.topic,
        forwarded_to=forwarded,
        age_band=age_band(question),
        sex=sex,
        place=place,
        channel=channel,
        source=source,
    )
