"""Configuration: one YAML file per CJG, validated at start-up (pydantic).

Secrets and deployment values can be overridden by environment variables of the form
CJGBOT__SECTION__KEY=value (e.g. CJGBOT__STORAGE__DATABASE_URL). With no file at all the
packaged sample configuration (bot/sample_config.yml) is used: the embedded default.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import date, time
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from flows.context import MAX_RETENTION_DAYS
from flows.domain import Partner
from flows.office_hours import OfficeHours

# libyaml (C) when the wheel has it: the texts and data load several times faster.
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

SAMPLE_CONFIG = Path(__file__).with_name("sample_config.yml")
ENV_PREFIX = "CJGBOT__"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
PARTNER_IDS = ("zuidzorg", "ggd", "lumens", "cordaad", "mee", "gemeente", "novadic")


class ConfigError(Exception):
    """A configuration problem, described in one line that names the key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CjgSettings(_Strict):
    name: str = Field(min_length=2)
    responsible_organisation: str = Field(min_length=2)
    region: str = "Veldhoven"


class StaffMember(_Strict):
    name: str = Field(min_length=1)
    matrix_id: str | None = None

    @field_validator("matrix_id")
    @classmethod
    def _matrix_id(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"@[^:\s]+:[^\s]+", value):
            raise ValueError("must look like @name:server")
        return value


class LoketSettings(_Strict):
    weekdays: list[
        Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
    ] = Field(min_length=1)
    opens: time
    closes: time
    timezone: str = "Europe/Amsterdam"
    holidays_country: str = "NL"
    closed_dates: list[date] = Field(default_factory=list)
    room: str | None = None
    staff: dict[str, StaffMember] = Field(default_factory=dict)
    roster: dict[str, str] = Field(default_factory=dict)  # weekday -> staff key
    reminder_after_working_hours: float = Field(default=3.0, gt=0)

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _check(self) -> LoketSettings:
        if self.opens >= self.closes:
            raise ValueError("opens must be before closes")
        for day, person in self.roster.items():
            if day not in WEEKDAYS:
                raise ValueError(f"roster: {day!r} is not a weekday name")
            if person not in self.staff:
                raise ValueError(f"roster.{day}: {person!r} is not listed under staff")
        return self

    def office_hours(
        self, known_holidays: Mapping[int, Mapping[date, str]] | None = None
    ) -> OfficeHours:
        """The loket's hours; `known_holidays`: see OfficeHours (bot.holiday_cache)."""
        return OfficeHours(
            weekdays=frozenset(WEEKDAYS.index(d) for d in self.weekdays),
            opens=self.opens,
            closes=self.closes,
            tz=ZoneInfo(self.timezone),
            extra_closed=frozenset(self.closed_dates),
            country=self.holidays_country,
            known_holidays=known_holidays,
        )


class PartnerSettings(_Strict):
    id: str
    name: str = Field(min_length=2)
    cjg_partner: bool
    ages: tuple[float, float]
    room: str | None = None

    @field_validator("id")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in PARTNER_IDS:
            raise ValueError(f"unknown partner id {value!r} (known: {', '.join(PARTNER_IDS)})")
        return value

    def partner(self) -> Partner:
        return Partner(self.id, self.name, self.cjg_partner, self.ages[0], self.ages[1])


class RetentionSettings(_Strict):
    days: int = Field(default=MAX_RETENTION_DAYS, ge=0, le=MAX_RETENTION_DAYS)
    conversation_idle_hours: float = Field(default=48, gt=0, le=24 * MAX_RETENTION_DAYS)
    audit_days: int = Field(default=365, ge=1)
    sweep_interval_minutes: float = Field(default=15, gt=0)
    sweep_batch_size: int = Field(default=1000, ge=1, le=100_000)


class StorageSettings(_Strict):
    database_url: str = "sqlite+aiosqlite:///data/cjgbot.sqlite3"
    key_file: Path = Path("data/secret.key")
    pool_size: int = Field(default=10, ge=1, le=200)  # PostgreSQL connections per instance

    @field_validator("database_url")
    @classmethod
    def _driver(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("use sqlite+aiosqlite:///path or postgresql+asyncpg://...")
        return value


class NluSettings(_Strict):
    backend: Literal["embedded", "rasa"] = "embedded"
    rasa_url: str | None = None
    fallback_threshold: float | None = Field(default=None, ge=0, le=1)
    cache_dir: Path | None = None
    # Read messages and decide the answers in a second process (on a second core) while
    # the bot stores and delivers others.
    # "auto": when this process may use more than one core. Embedded backend only.
    worker_process: bool | Literal["auto"] = "auto"

    def use_worker_process(self) -> bool:
        if self.backend != "embedded" or self.worker_process is False:
            return False
        if self.worker_process is True:
            return True
        affinity = getattr(os, "sched_getaffinity", None)  # Linux; elsewhere every core
        return (len(affinity(0)) if affinity else os.cpu_count() or 1) > 1


class ServiceSettings(_Strict):
    """How `cjgbot run` runs: the local health/metrics port and multi-instance leases."""

    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8080, ge=0, le=65535)  # 0: no health/metrics server
    lease_seconds: float = Field(default=30, ge=3, le=600)
    shutdown_grace_seconds: float = Field(default=20, ge=0, le=300)


class Settings(_Strict):
    cjg: CjgSettings
    loket: LoketSettings
    partners: list[PartnerSettings] = Field(min_length=1)
    retention: RetentionSettings = RetentionSettings()
    storage: StorageSettings = StorageSettings()
    nlu: NluSettings = NluSettings()
    service: ServiceSettings = ServiceSettings()
    channels: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _partners(self) -> Settings:
        ids = [p.id for p in self.partners]
        if len(set(ids)) != len(ids):
            raise ValueError("partners: an id is listed twice")
        if sum(p.cjg_partner for p in self.partners) == 0:
            raise ValueError("partners: at least one needs cjg_partner: true")
        return self

    def channel_enabled(self, name: str) -> bool:
        section = self.channels.get(name)
        return isinstance(section, dict) and bool(section.get("enabled", True))

    def partner_map(self) -> dict[str, Partner]:
        return {p.id: p.partner() for p in self.partners}


def _apply_env(data: dict[str, Any], environ: dict[str, str]) -> dict[str, Any]:
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX):
            continue
        path = [part.lower() for part in name[len(ENV_PREFIX) :].split("__") if part]
        if not path:
            continue
        node = data
        for part in path[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"{'.'.join(path)}: cannot set inside a non-mapping")
        node[path[-1]] = yaml.load(value, Loader=YAML_LOADER) if value else value
    return data


def describe_validation_error(error: ValidationError, prefix: str = "") -> str:
    """One line naming the key and the problem (never the value: it may be a secret)."""
    first = error.errors()[0]
    parts = [prefix] if prefix else []
    location = ".".join([*parts, *(str(p) for p in first["loc"])]) or "(top level)"
    message = first["msg"].removeprefix("Value error, ")
    more = len(error.errors()) - 1
    suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    return f"{location}: {message}{suffix}"


def load_settings(path: Path | None = None, environ: dict[str, str] | None = None) -> Settings:
    """Read, merge with the environment and validate; raises ConfigError with one line."""
    source = path or SAMPLE_CONFIG
    try:
        raw = yaml.load(source.read_text(encoding="utf-8"), Loader=YAML_LOADER)
    except FileNotFoundError as exc:
        raise ConfigError(f"configuration file {source} does not exist") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{source}: not valid YAML{where}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: expected a mapping of settings at the top level")
    data = _apply_env(raw, dict(os.environ if environ is None else environ))
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc)) from None
