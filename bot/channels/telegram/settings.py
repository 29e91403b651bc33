"""Settings of the Telegram channel, validated from `settings.channels["telegram"]`.

The token and the webhook secret usually come from the environment:
CJGBOT__CHANNELS__TELEGRAM__TOKEN and CJGBOT__CHANNELS__TELEGRAM__WEBHOOK_SECRET.
Errors never quote the values (`hide_input_in_errors`), so a token cannot end up in a log.
"""

from __future__ import annotations

import re
from typing import Any, Literal
from urllib.parse import urlparse

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from bot.config import ConfigError, Settings, describe_validation_error

CHANNEL = "telegram"
TELEGRAM_DELETE_LIMIT_HOURS = 48  # Telegram lets a bot delete its messages for 48 hours
_TOKEN = re.compile(r"\d{3,}:[A-Za-z0-9_-]{10,}")
_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
_LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)


class RateLimits(_Strict):
    """Telegram's flood limits: about 30 messages a second overall and one a second per chat."""

    overall_per_second: float = Field(default=30, gt=0)
    per_chat_per_second: float = Field(default=1, gt=0)
    group_per_minute: float = Field(default=20, gt=0)
    max_retries: int = Field(default=3, ge=0, le=10)  # retries of a 429 answer (retry_after)


class TelegramSettings(_Strict):
    token: SecretStr
    mode: Literal["polling", "webhook"] = "polling"
    base_url: str = "https://api.telegram.org/bot"  # another Bot API server (tests, self-hosted)
    poll_timeout: float = Field(default=25, ge=0, le=50)  # seconds of one long poll
    webhook_url: str | None = None  # the public https address Telegram posts updates to
    webhook_listen: str = "127.0.0.1"  # where the bot listens (behind a reverse proxy)
    webhook_port: int = Field(default=8443, ge=1, le=65535)
    webhook_secret: SecretStr | None = None
    webhook_max_connections: int = Field(default=40, ge=1, le=100)
    rate_limits: RateLimits = RateLimits()
    # Bot messages with personal data are deleted once the handover is made, and always
    # when they are this old (Telegram refuses after 48 hours).
    delete_personal_after_hours: float = Field(default=46, gt=0, lt=TELEGRAM_DELETE_LIMIT_HOURS)

    @field_validator("token", "webhook_secret", mode="before")
    @classmethod
    def _as_text(cls, value: Any) -> Any:
        # Environment values pass through YAML: a numeric secret would arrive as an int.
        return str(value) if isinstance(value, int) else value

    @field_validator("token")
    @classmethod
    def _token(cls, value: SecretStr) -> SecretStr:
        if not _TOKEN.fullmatch(value.get_secret_value()):
            raise ValueError("must look like 123456789:AAE... (the token from @BotFather)")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _SECRET.fullmatch(value.get_secret_value()):
            raise ValueError("use 1 to 256 characters: letters, digits, _ and -")
        return value

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("must start with https:// (or http:// for a local server)")
        return value

    @model_validator(mode="after")
    def _check(self) -> TelegramSettings:
        if self.mode != "webhook":
            return self
        if not self.webhook_url:
            raise ValueError("mode webhook needs webhook_url (the public https address)")
        if self.webhook_secret is None:
            raise ValueError("mode webhook needs webhook_secret")
        url = urlparse(self.webhook_url)
        local = url.hostname in _LOCAL_HOSTS
        if url.scheme != "https" and not (url.scheme == "http" and local):
            raise ValueError("webhook_url must start with https://")
        return self

    @property
    def webhook_path(self) -> str:
        """The path part of the webhook address; the local server listens on it."""
        return urlparse(self.webhook_url or "").path.strip("/")


def telegram_settings(settings: Settings) -> TelegramSettings | None:
    """The Telegram settings, or None when the channel is not configured.

    Raises ConfigError with one line that names the key (never the value).
    """
    raw = settings.channels.get(CHANNEL)
    if raw is None:
        return None
    try:
        found = TelegramSettings.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc, f"channels.{CHANNEL}")) from None
    # The sweeper deletes personal messages; Telegram refuses after 48 hours.
    window = found.delete_personal_after_hours + settings.retention.sweep_interval_minutes / 60
    if window >= TELEGRAM_DELETE_LIMIT_HOURS:
        raise ConfigError(
            f"channels.{CHANNEL}.delete_personal_after_hours: plus "
            "retention.sweep_interval_minutes it must stay under 48 hours"
        )
    return found
