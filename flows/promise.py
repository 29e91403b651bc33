"""The reply-time promise to a parent, in words, from office hours and holidays."""

from __future__ import annotations

from datetime import datetime, time

from flows.office_hours import OfficeHours, reply_promise
from flows.texts import Catalogue


def _hour(moment: time) -> str:
    return f"{moment.hour}" if moment.minute == 0 else f"{moment.hour}:{moment.minute:02d}"


def promise(
    catalogue: Catalogue, hours: OfficeHours, now: datetime, lang: str
) -> tuple[str, datetime]:
    """('maandag tussen 9 en 12 uur iets van ons', the moment the promised window closes)."""
    answer = reply_promise(hours, now)
    params = {
        "opens": _hour(answer.opens),
        "closes": _hour(answer.closes),
        "weekday": catalogue.raw("weekdays", lang)[answer.weekday],
        "date": f"{answer.day.day} {catalogue.raw('months', lang)[answer.day.month - 1]}",
    }
    text = catalogue.get(f"promise_{answer.relative}", lang, **params)
    return text, hours.window(answer.day)[1]
