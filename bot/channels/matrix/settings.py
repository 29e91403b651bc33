"""Settings of the Matrix channel: `channels.matrix` in the configuration file, validated here.

Secrets come from the environment, e.g. CJGBOT__CHANNELS__MATRIX__PASSWORD,
CJGBOT__CHANNELS__MATRIX__ACCESS_TOKEN and CJGBOT__CHANNELS__MATRIX__PICKLE_KEY.
The room ids of the loket and the partners are not here: they are `loket.room` and
`partners[].room` of the main configuration (written by `cjgbot matrix setup`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

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
from flows.domain import LOKET

USER_ID = re.compile(r"@[^:\s]+:[^\s]+")
ROOM_ID = re.compile(r"![^\s:]+(:[^\s]+)?")  # v12 room ids have no server part


class MatrixSettings(BaseModel):
    """How the bot reaches its homeserver and where it keeps its end-to-end encryption keys."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    homeserver: str = Field(pattern=r"^https?://")
    user_id: str
    password: SecretStr | None = None
    access_token: SecretStr | None = None
    device_id: str = Field(default="CJGBOT", min_length=1, pattern=r"^[A-Za-z0-9_.\-]+$")
    device_name: str = "CJG loketbot"
    # The E2E store (olm account, megolm sessions, known devices): keep it on a persistent,
    # private volume. Losing it means the bot's device cannot read earlier encrypted messages.
    store_path: Path = Path("data/matrix-store")
    # Encrypts the secrets inside the E2E store; set it in production.
    pickle_key: SecretStr | None = None
    # A homeserver admin token (optional): lets the bot purge its redacted room copies on
    # Synapse instead of waiting for `redaction_retention_period`.
    admin_token: SecretStr | None = None
    sync_timeout_ms: int = Field(default=30_000, ge=0, le=120_000)
    timeline_limit: int = Field(default=100, ge=1, le=1000)
    request_timeout_s: float = Field(default=60, gt=0)
    retry_max_wait_s: float = Field(default=60, gt=0)
    decrypt_wait_s: float = Field(default=30, ge=0)
    federate_rooms: bool = False  # loket/partner rooms of `setup`: m.federate (immutable)

    @field_validator("password", "access_token", "pickle_key", "admin_token", mode="before")
    @classmethod
    def _scalar_secret(cls, value: Any) -> Any:
        # Environment values pass through YAML: a numeric password arrives as an int.
        if isinstance(value, int | float | bool):
            return str(value)
        return value

    @field_validator("user_id")
    @classmethod
    def _user_id(cls, value: str) -> str:
        if not USER_ID.fullmatch(value):
            raise ValueError("must look like @name:server")
        return value

    @model_validator(mode="after")
    def _credentials(self) -> MatrixSettings:
        if self.enabled and self.password is None and self.access_token is None:
            raise ValueError(
                "set a password (CJGBOT__CHANNELS__MATRIX__PASSWORD) or an access token "
                "(CJGBOT__CHANNELS__MATRIX__ACCESS_TOKEN)"
            )
        return self

    @classmethod
    def from_settings(cls, settings: Settings) -> MatrixSettings:
        """Validate `channels.matrix`; a problem becomes a one-line ConfigError."""
        raw = settings.channels.get("matrix")
        if raw is None:
            raise ConfigError("channels.matrix: missing (homeserver, user_id, password)")
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            raise ConfigError(describe_validation_error(exc, "channels.matrix")) from None


def matrix_settings(settings: Settings) -> MatrixSettings | None:
    """The Matrix settings, or None when `channels.matrix` is absent or `enabled: false`.

    Raises ConfigError with one line that names the key (never the value).
    """
    raw = settings.channels.get("matrix")
    if raw is None or raw.get("enabled") is False:
        return None
    return MatrixSettings.from_settings(settings)


def configured_rooms(settings: Settings) -> dict[str, str]:
    """Logical room ('loket' or a partner id) -> Matrix room id, for the rooms that have one."""
    rooms: dict[str, str] = {}
    if settings.loket.room:
        rooms[LOKET] = settings.loket.room
    for partner in settings.partners:
        if partner.room:
            rooms[partner.id] = partner.room
    for logical, room_id in rooms.items():
        if not ROOM_ID.fullmatch(room_id):
            where = "loket.room" if logical == LOKET else f"partners.{logical}.room"
            raise ConfigError(f"{where}: {room_id!r} is not a Matrix room id (!id or !id:server)")
    if len(set(rooms.values())) != len(rooms):
        raise ConfigError("loket.room / partners[].room: a room id is used twice")
    return rooms
