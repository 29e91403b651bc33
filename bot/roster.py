"""Who is the loketmedewerker on duty: the weekly roster, and today's change (`!dienst`)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.config import WEEKDAYS, LoketSettings, StaffMember
from storage.repository import Repository


def _override_key(day: date) -> str:
    return f"dienst:{day.isoformat()}"


class Roster:
    def __init__(self, loket: LoketSettings) -> None:
        self.staff = dict(loket.staff)
        self.weekly = dict(loket.roster)
        self.tz = ZoneInfo(loket.timezone)

    def scheduled(self, day: date) -> str | None:
        return self.weekly.get(WEEKDAYS[day.weekday()])

    def find(self, text: str) -> str | None:
        """A staff key from a key, a name or a Matrix id as typed in `!dienst`."""
        wanted = text.strip().lower()
        for key, member in self.staff.items():
            if wanted in (key.lower(), member.name.lower(), (member.matrix_id or "").lower()):
                return key
        return None

    async def on_duty(self, repo: Repository, now: datetime) -> StaffMember | None:
        day = now.astimezone(self.tz).date()
        key = await repo.get_setting(_override_key(day)) or self.scheduled(day)
        return self.staff.get(key) if key else None

    async def set_today(self, repo: Repository, now: datetime, key: str) -> None:
        await repo.set_setting(_override_key(now.astimezone(self.tz).date()), key)
