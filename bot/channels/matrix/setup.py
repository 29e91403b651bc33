"""`cjgbot matrix setup`: create or check the loket room and the partner rooms.

Every room is end-to-end encrypted, invite-only, with history visibility "joined" (a new
member cannot read what came before), guest access off, and power levels that leave
every room setting, invite, kick and ban to the bot alone. Names and topics are fixed
texts without personal data (room state is never purged by a server). The result lists
the room ids to put in the configuration (`loket.room`, `partners[].room`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

import yaml
from nio import AsyncClient, AsyncClientConfig, RoomPreset, RoomVisibility

from bot.config import ConfigError, Settings
from flows.domain import LOKET

from .channel import MatrixLoginError
from .retry import Permanent, retrying
from .settings import MatrixSettings, configured_rooms
from .texts import channel_texts

BOT_LEVEL = 100
SETUP_DEVICE = "CJGBOT-SETUP"
# State events that only the bot may send (settings of the room).
LOCKED_EVENTS = (
    "m.room.name",
    "m.room.topic",
    "m.room.avatar",
    "m.room.power_levels",
    "m.room.history_visibility",
    "m.room.encryption",
    "m.room.join_rules",
    "m.room.guest_access",
    "m.room.canonical_alias",
    "m.room.tombstone",
    "m.room.server_acl",
    "m.room.pinned_events",
    "m.space.parent",
    "m.space.child",
)
LOCKED_ACTIONS = ("invite", "kick", "ban", "redact", "state_default")


@dataclass
class RoomReport:
    logical: str
    room_id: str
    created: bool = False
    fixed: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    invited: int = 0


@dataclass
class SetupReport:
    rooms: list[RoomReport]

    def room_ids(self) -> dict[str, str]:
        return {report.logical: report.room_id for report in self.rooms}

    @property
    def ok(self) -> bool:
        return not any(report.problems for report in self.rooms)

    def as_yaml(self) -> str:
        """The room ids as configuration: merge into the CJG's configuration file."""
        ids = self.room_ids()
        data: dict[str, Any] = {}
        if LOKET in ids:
            data["loket"] = {"room": ids[LOKET]}
        data["partners"] = [
            {"id": logical, "room": room_id} for logical, room_id in ids.items() if logical != LOKET
        ]
        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)

    def summary(self) -> str:
        lines = []
        for report in self.rooms:
            what = "aangemaakt" if report.created else "gecontroleerd"
            line = f"{report.logical}: {report.room_id} ({what}"
            if report.fixed:
                line += ", hersteld: " + ", ".join(report.fixed)
            if report.invited:
                line += f", {report.invited} uitgenodigd"
            line += ")"
            lines.append(line)
            lines.extend(f"  LET OP: {problem}" for problem in report.problems)
        return "\n".join(lines)


def power_levels(
    bot_user: str, existing: dict[str, Any] | None = None, bot_is_creator: bool = False
) -> dict[str, Any]:
    """Power levels where only the bot changes settings; other users keep their levels.

    From room version 12 on, the room's creator has unlimited power and must not be
    listed under `users`; in older versions the bot is listed with level 100.
    """
    content: dict[str, Any] = dict(existing or {})
    users = {u: level for u, level in dict(content.get("users", {})).items() if u != bot_user}
    content["users"] = users if bot_is_creator else {bot_user: BOT_LEVEL, **users}
    content["users_default"] = 0
    content["events_default"] = 0
    for action in LOCKED_ACTIONS:
        content[action] = BOT_LEVEL
    events = dict(content.get("events", {}))
    for event_type in LOCKED_EVENTS:
        events[event_type] = BOT_LEVEL
    for event_type in ("m.room.message", "m.room.encrypted", "m.reaction", "m.room.redaction"):
        events.setdefault(event_type, 0)
    content["events"] = events
    content["notifications"] = {**dict(content.get("notifications", {})), "room": BOT_LEVEL}
    return content


def _room_name(logical: str, settings: Settings) -> str:
    texts = channel_texts()
    if logical == LOKET:
        return texts.get("room_name_loket", "nl")
    name = settings.partner_map()[logical].name
    return texts.get("room_name_partner", "nl", partner=name)


def creators_privileged(room_version: str) -> bool:
    """Room versions 12 and later give the creators unlimited power (MSC4289)."""
    return room_version.isdigit() and int(room_version) >= 12


async def _default_room_version(client: AsyncClient) -> str:
    response = await client.send(
        "GET",
        "/_matrix/client/v3/capabilities",
        headers={"Authorization": f"Bearer {client.access_token}"},
    )
    if response.status != 200:
        return "10"
    data = await response.json()
    return str(data.get("capabilities", {}).get("m.room_versions", {}).get("default", "10"))


def _wanted_state() -> dict[str, dict[str, Any]]:
    return {
        "m.room.encryption": {"algorithm": "m.megolm.v1.aes-sha2"},
        "m.room.join_rules": {"join_rule": "invite"},
        "m.room.history_visibility": {"history_visibility": "joined"},
        "m.room.guest_access": {"guest_access": "forbidden"},
    }


async def _login(config: MatrixSettings) -> AsyncClient:
    # No E2E store here: setup only sends state events, which are never encrypted.
    client = AsyncClient(
        config.homeserver,
        config.user_id,
        device_id=SETUP_DEVICE,
        config=AsyncClientConfig(max_limit_exceeded=0, max_timeouts=0, encryption_enabled=False),
    )
    if config.access_token is not None:
        client.access_token = config.access_token.get_secret_value()
        client.user_id = config.user_id
    else:
        if config.password is None:
            raise ConfigError(
                "channels.matrix: set a password (CJGBOT__CHANNELS__MATRIX__PASSWORD) "
                "or an access token (CJGBOT__CHANNELS__MATRIX__ACCESS_TOKEN)"
            )
        login = functools.partial(
            client.login, config.password.get_secret_value(), device_name="cjgbot matrix setup"
        )
        try:
            await retrying(login, "login", config.retry_max_wait_s)
        except Permanent as exc:
            await client.close()
            raise MatrixLoginError(f"login refused ({exc.status})") from None
    return client


async def setup_rooms(
    settings: Settings,
    config: MatrixSettings | None = None,
    invite_loket_staff: bool = True,
) -> SetupReport:
    """Create the rooms that have no id in the configuration; check and fix the others."""
    config = config or MatrixSettings.from_settings(settings)
    client = await _login(config)
    try:
        existing = configured_rooms(settings)
        wanted = [LOKET, *[p.id for p in settings.partners]]
        loket_staff = [m.matrix_id for m in settings.loket.staff.values() if m.matrix_id]
        privileged = creators_privileged(await _default_room_version(client))
        reports = []
        for logical in wanted:
            invite = loket_staff if logical == LOKET and invite_loket_staff else []
            if logical in existing:
                report = await _check_room(client, settings, config, logical, existing[logical])
                report.invited = await _invite_missing(client, config, report, invite)
            else:
                report = await _create_room(client, settings, config, logical, invite, privileged)
            reports.append(report)
        return SetupReport(reports)
    finally:
        if config.access_token is None:
            await client.logout()
        await client.close()


async def _create_room(
    client: AsyncClient,
    settings: Settings,
    config: MatrixSettings,
    logical: str,
    invite: list[str],
    bot_is_creator: bool,
) -> RoomReport:
    initial_state = [
        {"type": event_type, "state_key": "", "content": content}
        for event_type, content in _wanted_state().items()
    ]
    create = functools.partial(
        client.room_create,
        visibility=RoomVisibility.private,
        name=_room_name(logical, settings),
        topic=channel_texts().get("room_topic", "nl"),
        federate=config.federate_rooms,
        preset=RoomPreset.private_chat,
        invite=invite,
        initial_state=initial_state,
        power_level_override=power_levels(config.user_id, bot_is_creator=bot_is_creator),
    )
    response = await retrying(create, "room_create", config.retry_max_wait_s)
    return RoomReport(logical, response.room_id, created=True, invited=len(invite))


async def _put_state(
    client: AsyncClient, config: MatrixSettings, room_id: str, event_type: str, content: dict
) -> None:
    call = functools.partial(client.room_put_state, room_id, event_type, content)
    await retrying(call, "put_state", config.retry_max_wait_s)


async def _check_room(
    client: AsyncClient,
    settings: Settings,
    config: MatrixSettings,
    logical: str,
    room_id: str,
) -> RoomReport:
    report = RoomReport(logical, room_id)
    try:
        await retrying(functools.partial(client.join, room_id), "join", config.retry_max_wait_s)
        response = await retrying(
            functools.partial(client.room_get_state, room_id), "state", config.retry_max_wait_s
        )
    except Permanent as exc:
        report.problems.append(f"de bot kan de kamer niet in ({exc.status})")
        return report
    state = {(e["type"], e.get("state_key", "")): e for e in response.events}
    create = state.get(("m.room.create", ""), {})
    version = str(create.get("content", {}).get("room_version", "1"))
    creators = {create.get("sender"), *create.get("content", {}).get("additional_creators", [])}
    bot_is_creator = creators_privileged(version) and config.user_id in creators

    def content(event_type: str) -> dict[str, Any]:
        return dict(state.get((event_type, ""), {}).get("content", {}))

    try:
        for event_type, wanted in _wanted_state().items():
            key = next(iter(wanted))
            if content(event_type).get(key) != wanted[key]:
                await _put_state(client, config, room_id, event_type, wanted)
                report.fixed.append(event_type.removeprefix("m.room."))
        levels = content("m.room.power_levels")
        wanted_levels = power_levels(config.user_id, levels, bot_is_creator)
        if not bot_is_creator and levels.get("users", {}).get(config.user_id, 0) < BOT_LEVEL:
            report.problems.append("de bot heeft geen machtsniveau 100 in deze kamer")
        elif wanted_levels != levels:
            await _put_state(client, config, room_id, "m.room.power_levels", wanted_levels)
            report.fixed.append("power_levels")
        others = [
            u for u, lvl in wanted_levels["users"].items() if u != config.user_id and lvl >= 100
        ]
        if creators_privileged(version):
            others += [c for c in creators if c and c != config.user_id]
        if others:
            report.problems.append(
                f"{len(others)} andere account(s) met machtsniveau 100 of maker van de kamer: "
                "die kunnen de instellingen wijzigen"
            )
        for event_type, key, text in (
            ("m.room.name", "name", _room_name(logical, settings)),
            ("m.room.topic", "topic", channel_texts().get("room_topic", "nl")),
        ):
            if content(event_type).get(key) != text:
                await _put_state(client, config, room_id, event_type, {key: text})
                report.fixed.append(key)
    except Permanent as exc:
        report.problems.append(f"kon de instellingen niet zetten ({exc.status})")
    return report


async def _invite_missing(
    client: AsyncClient, config: MatrixSettings, report: RoomReport, users: list[str]
) -> int:
    if not users:
        return 0
    members = await client.joined_members(report.room_id)
    present = {m.user_id for m in getattr(members, "members", [])}
    count = 0
    for user in users:
        if user in present:
            continue
        try:
            call = functools.partial(client.room_invite, report.room_id, user)
            await retrying(call, "invite", config.retry_max_wait_s)
            count += 1
        except Permanent as exc:
            if exc.status != "M_FORBIDDEN":  # already invited
                report.problems.append(f"uitnodigen mislukt ({exc.status})")
    return count


async def invite_member(settings: Settings, logical: str, user_id: str) -> None:
    """Invite a staff member into the loket room or a partner room (only the bot can)."""
    config = MatrixSettings.from_settings(settings)
    room_id = configured_rooms(settings).get(logical)
    if room_id is None:
        where = "loket.room" if logical == LOKET else f"partners.{logical}.room"
        raise ConfigError(f"{where}: no Matrix room configured (run cjgbot matrix setup)")
    client = await _login(config)
    try:
        call = functools.partial(client.room_invite, room_id, user_id)
        await retrying(call, "invite", config.retry_max_wait_s)
    finally:
        if config.access_token is None:
            await client.logout()
        await client.close()
