"""The app: the composition root that runs the flows and executes their actions.

channel adapter --event--> App --(state, event, now)--> flows --(state, actions)--> App
The App loads and saves state in one transaction per event, then delivers messages. With
an NLU worker process, the flows of a text message run there (`_turn_in_worker`): the App
stores the turn only if the stored state is still the one the worker started from.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from cachetools import TTLCache

from flows import conversation, handover
from flows.actions import (
    Action,
    Audit,
    CommandReply,
    CreateHandover,
    EndConversation,
    ForgetParent,
    NotifyLoket,
    NotifyParent,
    Register,
    RemoveCopies,
    Reply,
    RoomPost,
    SetPurgeDeadline,
    UrgentFlag,
)
from flows.context import FlowContext
from flows.domain import LOKET
from flows.events import (
    Claim,
    Close,
    ConversationExpired,
    Escalate,
    Forget,
    HandoverEvent,
    HandoverView,
    Offer,
    ParentCommand,
    ParentEvent,
    ParentText,
    Release,
    Reroute,
    Staff,
    Tick,
)
from flows.intake import may_be_plain_answer
from flows.room_commands import (
    ALL_PARTNERS_WORDS,
    CLOSE_REASON_WORDS,
    LOKET_ONLY,
    BadCommand,
    RoomCommand,
    parse_room_command,
)
from flows.state import ConversationState
from storage.repository import Repository, Store

from .delivery import ROOMS, Dispatcher
from .gateways import ParentGateway, RoomGateway
from .observability import Metrics
from .roster import Roster

if TYPE_CHECKING:
    from nlu.pipeline import NluResult

    from .nlu_worker import NluWorker

log = logging.getLogger("cjgbot.app")

DIGEST_KEY = "digest:last"
# Telegram lets a bot delete its messages for 48 hours; stay well inside that.
PERSONAL_MESSAGE_MAX_AGE = timedelta(hours=46)
# States kept in memory (encrypted, about a kilobyte each) for the NLU worker's turns.
# The state loaded for a turn is used by nothing else: the flow need not copy it.
HAND_OVER = {"hand_over_state": True}
STORED_STATES_KEPT = 4096
STORED_STATES_SECONDS = 600.0

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class _Recent(TTLCache[str, Any]):
    """At most `size` entries, none kept longer than `seconds` after it was put.

    Expired entries go even when nothing is put or asked any more: a timer looks every
    tenth of `seconds` while the cache holds any (an entry lives 0.9 of `seconds`).
    """

    def __init__(self, size: int, seconds: float) -> None:
        super().__init__(maxsize=size, ttl=seconds * 0.9, timer=time.monotonic)
        self._every = seconds * 0.1
        self._timer: asyncio.TimerHandle | None = None

    def put(self, key: str, value: Any) -> None:
        self[key] = value
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self._every, self._on_timer)

    def pop(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        return super().pop(key, default)

    def _on_timer(self) -> None:
        self.expire()
        self._timer = None
        if len(self):
            self._timer = asyncio.get_running_loop().call_later(self._every, self._on_timer)


_UNKNOWN: Any = object()


@dataclass(frozen=True, slots=True)
class _Turn:
    """A decided turn: the new state as a model (decided here) or as stored (by the worker)."""

    event_type: str
    step: str
    actions: list[Action]
    state: ConversationState | None
    stored: bytes | None = None


@dataclass
class Outbox:
    """What one event decided to send. Replies go out directly after the commit; the rest
    is written to the outbox table in the same transaction (`App._persist`)."""

    replies: list[Reply] = field(default_factory=list)
    posts: list[RoomPost] = field(default_factory=list)
    redactions: list[tuple[str, str, int]] = field(default_factory=list)
    parent_notices: list[tuple[str, str, Reply, int]] = field(default_factory=list)
    command_replies: list[str] = field(default_factory=list)


class App:
    def __init__(
        self,
        store: Store,
        contexts: dict[str, FlowContext],
        rooms: RoomGateway,
        conversation_idle: timedelta = timedelta(hours=48),
        clock: Clock = utc_now,
        roster: Roster | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.store = store
        self.contexts = contexts  # per channel name
        self.rooms = rooms
        self.parents: dict[str, ParentGateway] = {}
        self.idle = conversation_idle
        self.clock = clock
        self.roster = roster
        self.metrics = metrics or Metrics()
        self.in_flight = 0
        self.offload_flows = False  # True when understanding a message waits on a server
        self.nlu_worker: NluWorker | None = None  # reads messages in another process
        self.metrics.nlu_worker_up.set_function(
            lambda: float(self.nlu_worker is not None and self.nlu_worker.alive)
        )
        self._idle = asyncio.Event()
        # How long the bot's personal messages may stay in a parent's chat, per channel.
        self.personal_message_max_age: dict[str, timedelta] = {}
        # One lock per chat while a message of it is in hand; gone when none is (no chat ids
        # pile up in memory).
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )
        self.dispatcher = Dispatcher(self)
        # The states this instance stored last (encrypted, by lookup key): the worker
        # starts a turn from one without reading it first. Checked before storing; kept
        # for minutes only (a conversation deleted elsewhere leaves no copy for long).
        self._stored_states = _Recent(STORED_STATES_KEPT, STORED_STATES_SECONDS)

    def add_parent_channel(self, name: str, gateway: ParentGateway) -> None:
        self.parents[name] = gateway

    @property
    def staff_context(self) -> FlowContext:
        return next(iter(self.contexts.values()))

    def _lock(self, key: str) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[key] = lock
        return lock

    # --- parents ---

    async def handle_parent(self, channel: str, address: str, event: ParentEvent) -> None:
        """Run one parent event through the conversation flow and deliver the result."""
        self.in_flight += 1
        self._idle.clear()
        self.metrics.messages.labels(channel).inc()
        try:
            await self._handle_parent(channel, address, event)
        except Exception:
            self.metrics.errors.labels("parent").inc()
            raise
        finally:
            self.in_flight -= 1
            if not self.in_flight:
                self._idle.set()

    async def drain(self, within: float = 20.0) -> bool:
        """Wait until no event is in hand (graceful shutdown); False if time ran out."""
        if self.in_flight:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._idle.wait(), within)
        return self.in_flight == 0

    async def _handle_parent(self, channel: str, address: str, event: ParentEvent) -> None:
        ctx = self.contexts[channel]
        async with self._lock(f"{channel}:{address}"):
            if await self._turn_in_worker(ctx, channel, address, event):
                return
            if len(self._stored_states):  # decided here: the state kept may change now
                self._stored_states.pop(self.store.cipher.lookup(channel, address))
            understood = await self._understand_first(ctx, channel, address, event)
            now = self.clock()
            outbox = Outbox()
            async with self.store.transaction() as repo:
                found = await repo.find_conversation(channel, address, lock=True)
                state = found.state if found else ConversationState()
                if isinstance(event, ParentCommand) and event.name == "mijngegevens" and found:
                    event = ParentCommand(event.name, event.arg, await self._views(repo, found.id))
                if self.offload_flows:  # the NLU asks a server: keep the event loop free
                    new_state, actions = await asyncio.to_thread(
                        conversation.handle, state, event, now, ctx, understood, **HAND_OVER
                    )
                else:
                    new_state, actions = conversation.handle(
                        state, event, now, ctx, understood, **HAND_OVER
                    )
                turn = _Turn(type(event).__name__, new_state.step.value, actions, new_state)
                conv_id, forget = await self._store_turn(
                    repo, ctx, channel, address, found.id if found else None, turn, now, outbox
                )
            await self._after_turn(outbox, channel, address, conv_id, forget, now)

    async def _turn_in_worker(
        self, ctx: FlowContext, channel: str, address: str, event: ParentEvent
    ) -> bool:
        """Let the worker process decide the turn of a text message; False: decide it here.

        The worker gets the state as stored and gives back the new one with the actions.
        They are stored only if the stored state is still the one it started from (the
        state is encrypted with a fresh nonce each time it is saved, so any save changes
        it): another instance, a sweep or the command line may have changed it meanwhile.
        Then, or when the worker is away, the turn is decided here, on the state as it is.
        """
        worker = self.nlu_worker
        if worker is not None and not worker.alive and len(self._stored_states):
            self._stored_states.clear()  # for the worker's turns only: no use any more
        if (
            worker is None
            or not worker.alive
            or not isinstance(event, ParentText)
            or event.nlu is not None
            or not worker.decides_turns(channel, ctx, self.store.cipher)
        ):
            return False
        key = self.store.cipher.lookup(channel, address)
        seen = self._stored_states.get(key, _UNKNOWN)
        if seen is _UNKNOWN:
            async with self.store.transaction() as repo:
                seen = await repo.stored_conversation(channel, address, user_key=key)
        now = self.clock()
        decided = await worker.turn(channel, seen[1] if seen else None, event, now)
        if decided is None:
            self.metrics.turns_redone.labels("worker").inc()
            return False
        outbox = Outbox()
        async with self.store.transaction() as repo:
            if await repo.stored_conversation(channel, address, True, key) != seen:
                self._stored_states.pop(key)
                self.metrics.turns_redone.labels("changed").inc()
                return False
            turn = _Turn("ParentText", decided.step, decided.actions, None, decided.state)
            conv_id, forget = await self._store_turn(
                repo, ctx, channel, address, seen[0] if seen else None, turn, now, outbox
            )
        if conv_id is None or any(isinstance(a, CreateHandover) for a in decided.actions):
            self._stored_states.pop(key)  # forgotten, or saved anew (the handover's number)
        else:
            self._stored_states.put(key, (conv_id, decided.state))
        await self._after_turn(outbox, channel, address, conv_id, forget, now)
        return True

    async def _store_turn(
        self,
        repo: Repository,
        ctx: FlowContext,
        channel: str,
        address: str,
        conv_id: str | None,
        turn: _Turn,
        now: datetime,
        outbox: Outbox,
    ) -> tuple[str | None, bool]:
        """Carry out a turn's actions and store its state; returns the id and `forget`."""
        log.info(
            "parent_event",
            extra={"event_type": turn.event_type, "step": turn.step, "channel": channel},
        )
        actions = turn.actions
        forget = any(isinstance(a, ForgetParent) for a in actions)
        expires_at = now + self.idle
        for action in actions:
            if isinstance(action, EndConversation):
                expires_at = min(expires_at, action.purge_at)
        state = turn.state
        creates_handover = any(isinstance(a, CreateHandover) for a in actions)
        if state is None and creates_handover:
            # The handover's number goes into the state (rare: once a conversation).
            assert turn.stored is not None
            state = ConversationState.model_validate_json(repo.cipher.decrypt(turn.stored))

        async def save(conv_id: str | None) -> str:
            if state is not None:
                return await repo.save_conversation(
                    conv_id, channel, address, state, now, expires_at
                )
            assert turn.stored is not None
            return await repo.save_stored_conversation(
                conv_id, channel, address, turn.stored, now, expires_at
            )

        if conv_id is None and creates_handover:  # the handover refers to it
            conv_id = await save(None)
        await self._execute(repo, conv_id, state, actions, now, outbox, ctx)
        if forget:
            if conv_id is not None:
                await repo.delete_conversation(conv_id)
        elif conv_id is None:  # a new parent
            conv_id = await save(None)
        else:
            await save(conv_id)
        await self._persist(repo, outbox, now)
        return (None if forget else conv_id), forget

    async def _after_turn(
        self,
        outbox: Outbox,
        channel: str,
        address: str,
        conv_id: str | None,
        forget: bool,
        now: datetime,
    ) -> None:
        """After the commit: deliver; after a "forget me", clear the bot's messages too."""
        await self._deliver(outbox, channel, address, conv_id)
        if forget:  # the bot's messages with personal data go from the chat at once
            await self.delete_personal_messages(now)

    async def _understand_first(
        self, ctx: FlowContext, channel: str, address: str, event: ParentEvent
    ) -> dict[str, NluResult]:
        """Read the message before the transaction, where that runs elsewhere.

        With an NLU server: ask it before the transaction, not while holding the database.
        (On SQLite a transaction holds the one write lock: every other parent would wait
        for the server's answer.) The flow asks again only in the rare turn that reads a
        second text, such as a question and its clarification together.

        With an NLU worker process: it reads the message on another core while the event
        loop goes on. Not a short text that answers some question ("ja", "Veldhoven"):
        the flow reads those without the classifier at their step, and at another step
        (rare) it reads them itself.
        """
        if not isinstance(event, ParentText):
            return {}
        if self.offload_flows:
            async with self.store.transaction() as repo:
                found = await repo.find_conversation(channel, address)
            state = found.state if found else ConversationState()
            text = conversation.to_understand(state, event, ctx)
            if text is None:
                return {}
            return {text: await asyncio.to_thread(ctx.understand, text)}
        if self.nlu_worker is not None:
            text = conversation.message_text(event, ctx)
            if text and not may_be_plain_answer(text):
                result = await self.nlu_worker.parse(text)
                if result is not None:
                    return {text: result}
        return {}

    async def _views(self, repo: Repository, conv_id: str) -> tuple[HandoverView, ...]:
        views = []
        for item in await repo.handovers_of(conv_id):
            details = item.details
            views.append(
                HandoverView(
                    number=item.number,
                    status=item.state.status.value,
                    purge_at=item.state.purge_at,
                    summary=details.summary if details else None,
                    contact=details.contact if details else None,
                )
            )
        return tuple(views)

    async def _execute(
        self,
        repo: Repository,
        conv_id: str | None,
        state: ConversationState | None,
        actions: list[Action],
        now: datetime,
        outbox: Outbox,
        ctx: FlowContext,
    ) -> None:
        """Carry out actions. `state` is needed (and changed) only with CreateHandover."""
        for action in actions:
            if isinstance(action, Reply):
                outbox.replies.append(action)
            elif isinstance(action, Register):
                await repo.register(action.registration)
                self.metrics.questions.labels(action.registration.type).inc()
            elif isinstance(action, Audit):
                await repo.audit(
                    now, action.event, action.actor_role, action.organisation, action.handover
                )
            elif isinstance(action, CreateHandover):
                created = await repo.create_handover(
                    conv_id, action.targets, action.urgent, action.details, now, action.promised_by
                )
                assert state is not None
                state.handovers.append(created.number)
                await repo.audit(now, "handover_created", "parent", None, created.number)
                await self._run_handover(repo, created.number, Offer(), now, outbox)
            elif isinstance(action, UrgentFlag):
                category = self._category_label(action.category)
                text = ctx.catalogue.get(
                    "room_urgent_flag", "nl", category=category, channel=ctx.channel, followup=""
                )
                outbox.posts.append(RoomPost(LOKET, text, "note", attention=True))
            elif isinstance(action, NotifyLoket):
                text = ctx.catalogue.get(action.key, "nl", **action.params)
                outbox.posts.append(RoomPost(LOKET, text, "note", attention=True))
            elif isinstance(action, ForgetParent) and conv_id is not None:
                for item in await repo.handovers_of(conv_id):
                    await self._run_handover(repo, item.number, Forget(), now, outbox)

    def _category_label(self, category: str) -> str:
        catalogue = self.staff_context.catalogue
        try:
            return catalogue.get(f"crisis_category_{category}", "nl")
        except KeyError:
            return catalogue.get("crisis_category_other", "nl")

    async def _run_handover(
        self, repo: Repository, number: int, event: HandoverEvent, now: datetime, outbox: Outbox
    ) -> bool:
        item = await repo.get_handover(number, lock=True)
        if item is None:
            return False
        new_state, actions = handover.handle(
            item.state, item.details, event, now, self.staff_context
        )
        await repo.save_handover(new_state, forget_details=new_state.forgotten)
        for action in actions:
            if isinstance(action, RoomPost):
                outbox.posts.append(action)
            elif isinstance(action, RemoveCopies):
                posts = await repo.room_posts(number, action.rooms, action.kinds)
                outbox.redactions.extend((p.room, p.message_ref, number) for p in posts)
                await repo.mark_redacted([p.id for p in posts])
                # Copies not posted yet are not posted at all.
                await repo.drop_posts(number, action.rooms, action.kinds)
            elif isinstance(action, Audit):
                await repo.audit(
                    now, action.event, action.actor_role, action.organisation, action.handover
                )
                self.metrics.handover_events.labels(action.event).inc()
            elif isinstance(action, CommandReply):
                outbox.command_replies.append(action.text)
            elif isinstance(action, SetPurgeDeadline):
                pass  # stored with the handover state (purge_at column)
            elif isinstance(action, NotifyParent) and item.conversation_id and item.details:
                found = await repo.get_conversation(item.conversation_id)
                if found is not None:
                    ctx = self.contexts.get(found.channel, self.staff_context)
                    text = ctx.catalogue.get(action.key, item.details.language, **action.params)
                    outbox.parent_notices.append(
                        (found.channel, found.address, Reply(text), number)
                    )
        return True

    async def mention_on_duty(self) -> str | None:
        """The Matrix id of the loketmedewerker on duty today, to mention in the loket room."""
        if self.roster is None:
            return None
        async with self.store.transaction() as repo:
            member = await self.roster.on_duty(repo, self.clock())
        return member.matrix_id if member else None

    async def _persist(self, repo: Repository, outbox: Outbox, now: datetime) -> None:
        """Room messages and notices into the outbox table, in the deciding transaction."""
        for room, ref, number in outbox.redactions:
            await repo.enqueue(ROOMS, "redact", number, {"room": room, "ref": ref}, now)
        for post in outbox.posts:
            payload = {
                "room": post.room,
                "text": post.text,
                "kind": post.kind,
                "attention": post.attention,
            }
            await repo.enqueue(ROOMS, "post", post.handover, payload, now)
        for channel, address, reply, number in outbox.parent_notices:
            payload = {"address": address, "text": reply.text}
            await repo.enqueue(channel, "notice", number, payload, now)

    async def _deliver(
        self, outbox: Outbox, channel: str | None, address: str | None, conv_id: str | None
    ) -> None:
        """After the commit: the replies to the parent, then whatever the outbox holds."""
        sent_personal: list[str] = []
        if channel is not None and address is not None and outbox.replies:
            gateway = self.parents[channel]
            for reply in outbox.replies:
                ref = await gateway.send(address, reply)
                if reply.personal and ref is not None:
                    sent_personal.append(ref)
        if sent_personal and conv_id:
            now = self.clock()
            async with self.store.transaction() as repo:
                for ref in sent_personal:
                    await repo.add_parent_message(conv_id, channel or "", ref, now)
        if outbox.posts or outbox.redactions or outbox.parent_notices:
            await self.dispatcher.flush_soon()

    # --- staff in rooms ---

    async def handle_room_message(self, room: str, staff: Staff, text: str) -> list[str]:
        """A message in the loket room or a partner room; returns the bot's answers there."""
        parsed = parse_room_command(text)
        if parsed is None:
            return []
        catalogue = self.staff_context.catalogue
        if isinstance(parsed, BadCommand):
            return [catalogue.get(parsed.reason, "nl", partners=self._partner_list())]
        return await self.run_room_command(room, staff, parsed)

    def _partner_list(self) -> str:
        return ", ".join(self.staff_context.partners)

    async def run_room_command(self, room: str, staff: Staff, command: RoomCommand) -> list[str]:
        catalogue = self.staff_context.catalogue
        now = self.clock()
        if command.name == "help":
            return [catalogue.get("room_help", "nl")]
        if command.name in LOKET_ONLY and room != LOKET:
            await self._audit_refusal(now, f"{command.name}_refused_room", staff)
            return [catalogue.get("room_not_allowed", "nl")]
        if command.name == "open":
            return [await self._open_overview()]
        if command.name == "dienst":
            return [await self._set_on_duty(command.arg, staff, now)]
        assert command.number is not None
        event = self._room_event(command, staff)
        if isinstance(event, str):
            return [catalogue.get(event, "nl", partners=self._partner_list())]
        return await self._handover_event(command.number, event, staff)

    def _room_event(self, command: RoomCommand, staff: Staff) -> HandoverEvent | str:
        if command.name == "claim":
            return Claim(staff)
        if command.name == "release":
            return Release(staff)
        if command.name == "casusoverleg":
            return Escalate(staff)
        if command.name == "klantmanager":
            return Close(staff, "klantmanager")
        if command.name == "route":
            if command.arg in ALL_PARTNERS_WORDS:
                return Reroute(staff, None)
            if command.arg in self.staff_context.partners:
                return Reroute(staff, command.arg)
            return "room_bad_partner"
        reason = CLOSE_REASON_WORDS.get(command.arg or "afgehandeld")
        return Close(staff, reason) if reason else "room_bad_command"

    async def _handover_event(self, number: int, event: HandoverEvent, staff: Staff) -> list[str]:
        catalogue = self.staff_context.catalogue
        async with self._lock(f"handover:{number}"):
            now = self.clock()
            outbox = Outbox()
            async with self.store.transaction() as repo:
                found = await self._run_handover(repo, number, event, now, outbox)
                if not found:
                    await repo.audit(
                        now, "command_unknown_number", _role(staff), staff.organisation, None
                    )
                await self._persist(repo, outbox, now)
            if not found:
                return [catalogue.get("room_unknown_number", "nl", number=str(number))]
            await self._deliver(outbox, None, None, None)
            return outbox.command_replies

    async def handle_reaction(
        self, room: str, staff: Staff, message_ref: str, key: str
    ) -> list[str]:
        """A ✅ on a handover post claims it."""
        if not key.startswith(("✅", "✔", "☑")):
            return []
        async with self.store.transaction() as repo:
            post = await repo.find_post(room, message_ref)
        if post is None or post.kind != "handover":
            return []
        return await self._handover_event(post.handover_number, Claim(staff), staff)

    async def _set_on_duty(self, text: str, staff: Staff, now: datetime) -> str:
        catalogue = self.staff_context.catalogue
        key = self.roster.find(text) if self.roster else None
        if self.roster is None or key is None:
            names = ", ".join(self.roster.staff) if self.roster else "-"
            return catalogue.get("room_on_duty_unknown", "nl", staff=names)
        async with self.store.transaction() as repo:
            await self.roster.set_today(repo, now, key)
            await repo.audit(now, "on_duty_changed", "loket", staff.organisation, None)
        return catalogue.get("room_on_duty", "nl", name=self.roster.staff[key].name)

    async def _audit_refusal(self, now: datetime, event: str, staff: Staff) -> None:
        async with self.store.transaction() as repo:
            await repo.audit(now, event, _role(staff), staff.organisation, None)

    async def _open_overview(self) -> str:
        ctx = self.staff_context
        catalogue = ctx.catalogue
        async with self.store.transaction() as repo:
            items = await repo.open_handovers()
        if not items:
            return catalogue.get("room_open_none", "nl")
        lines = [catalogue.get("room_open_header", "nl")]
        for item in items:
            state = item.state
            names = catalogue.join_names([ctx.partner_name(t) for t in state.targets])
            lines.append(
                catalogue.get(
                    "room_open_line",
                    "nl",
                    number=str(state.number),
                    route_label=self._route_label(state.targets),
                    organisations=names,
                    since=self._moment(state.created_at),
                    urgent=catalogue.get("room_urgent", "nl") if state.urgent else "",
                )
            )
        return "\n".join(lines)

    # --- timers ---

    async def tick(self) -> None:
        """Reminders for unclaimed handovers (in working hours), new promises, the digest."""
        now = self.clock()
        await self.opening_digest(now)
        async with self.store.transaction() as repo:
            numbers = [item.number for item in await repo.open_handovers()]
        for number in numbers:
            outbox = Outbox()
            async with self.store.transaction() as repo:
                await self._run_handover(repo, number, Tick(), now, outbox)
                await self._persist(repo, outbox, now)
        await self.dispatcher.flush()

    async def delete_personal_messages(
        self, now: datetime | None = None, channel: str | None = None
    ) -> int:
        """Delete the bot's due messages with personal data in parents' chats.

        A row is forgotten when its message is gone or can no longer be deleted; on a
        network problem it stays for the next sweep. Returns how many messages went.
        """
        now = now or self.clock()
        due = []
        async with self.store.transaction() as repo:
            for name in [channel] if channel else list(self.parents):
                max_age = self.personal_message_max_age.get(name, PERSONAL_MESSAGE_MAX_AGE)
                due.extend(await repo.parent_messages_due(now, max_age, name))
        done: list[int] = []
        deleted = 0
        for item in due:
            if item.channel not in self.parents:
                continue  # that channel is not running here: keep it for a sweep that has it
            delete = getattr(self.parents[item.channel], "delete", None)
            if delete is not None:
                try:
                    deleted += await delete(item.ref)
                except Exception:
                    log.warning("parent_delete_failed", extra={"channel": item.channel})
                    continue
            done.append(item.id)
        async with self.store.transaction() as repo:
            await repo.delete_parent_messages(done)
        return deleted

    async def opening_digest(self, now: datetime | None = None) -> bool:
        """Once when the loket opens: everything since it closed, for the person on duty."""
        now = now or self.clock()
        ctx = self.staff_context
        hours, catalogue = ctx.office_hours, ctx.catalogue
        if not hours.is_open(now):
            return False
        opened = hours.window(now.astimezone(hours.tz).date())[0]
        async with self.store.transaction() as repo:
            last_text = await repo.get_setting(DIGEST_KEY)
            last = datetime.fromisoformat(last_text) if last_text else now - timedelta(days=7)
            if last >= opened:
                return False
            await repo.set_setting(DIGEST_KEY, now.isoformat())
            events = await repo.audit_events(start=last, end=now)
            numbers = sorted(
                {
                    e.handover_number
                    for e in events
                    if e.event == "handover_created" and e.handover_number
                }
            )
            handovers = [h for n in numbers if (h := await repo.get_handover(n)) is not None]
        lines = [catalogue.get("room_digest_header", "nl", since=self._moment(last))]
        for item in handovers:
            state = item.state
            if state.status == "claimed":
                status = catalogue.get(
                    "room_digest_claimed",
                    "nl",
                    name=state.claimed_name or "",
                    organisation=ctx.partner_name(state.claimed_org or LOKET),
                )
            elif state.status == "closed":
                status = catalogue.get("room_digest_closed", "nl")
            else:
                status = catalogue.get("room_digest_unclaimed", "nl")
            lines.append(
                catalogue.get(
                    "room_digest_line",
                    "nl",
                    number=str(state.number),
                    route_label=self._route_label(state.targets),
                    organisations=catalogue.join_names(
                        [ctx.partner_name(t) for t in state.targets]
                    ),
                    status=status,
                    urgent=catalogue.get("room_urgent", "nl") if state.urgent else "",
                )
            )
        urgent = sum(e.event == "urgent_flag" for e in events)
        declined = sum(e.event == "sharing_declined" for e in events)
        rights = sorted(
            {
                str(e.handover_number)
                for e in events
                if e.event == "rights_request" and e.handover_number
            }
        )
        if urgent:
            lines.append(catalogue.get("room_digest_urgent_flags", "nl", count=str(urgent)))
        if rights:
            lines.append(catalogue.get("room_digest_rights", "nl", numbers=", ".join(rights)))
        if declined:
            lines.append(catalogue.get("room_digest_declined", "nl", count=str(declined)))
        if len(lines) == 1:
            lines.append(catalogue.get("room_digest_none", "nl"))
        outbox = Outbox(posts=[RoomPost(LOKET, "\n".join(lines), "digest", attention=True)])
        async with self.store.transaction() as repo:
            await self._persist(repo, outbox, now)
        await self.dispatcher.flush()
        return True

    def _moment(self, moment: datetime) -> str:
        ctx = self.staff_context
        local = moment.astimezone(ctx.office_hours.tz)
        months = ctx.catalogue.raw("months", "nl")
        return f"{local.day} {months[local.month - 1]} {local:%H:%M}"

    def _route_label(self, targets: list[str]) -> str:
        key = (
            "room_route_crisis"
            if targets == [LOKET]
            else "room_route_partner"
            if len(targets) == 1
            else "room_route_all"
        )
        return self.staff_context.catalogue.get(key, "nl")

    async def expire_conversations(self, now: datetime) -> int:
        count = 0
        async with self.store.transaction() as repo:
            expired = await repo.expired_conversations(now)
            for found in expired:
                ctx = self.contexts.get(found.channel, self.staff_context)
                new_state, actions = conversation.handle(
                    found.state, ConversationExpired(), now, ctx
                )
                outbox = Outbox()
                await self._execute(repo, found.id, new_state, actions, now, outbox, ctx)
                await self._persist(repo, outbox, now)
                live = [h for h in await repo.handovers_of(found.id)]
                if live:
                    await repo.save_conversation(
                        found.id, found.channel, found.address, new_state, now, None
                    )
                else:
                    await repo.delete_conversation(found.id)
                count += 1
        await self.dispatcher.flush()
        return count


def _role(staff: Staff) -> str:
    return "loket" if staff.organisation == LOKET else "partner"
