"""The NLU and the conversation flow in a worker process: a second core thinks.

Reading a message (classifier, crisis lexicon, entities) and deciding the answer (the
conversation flow, the state's JSON and its encryption) are most of the work of a
message, and they are pure computation. In a worker process they run beside the event
loop, which meanwhile stores and delivers other parents' messages.

The worker is forked from the bot once the model is loaded, so it shares the model's
memory pages (copy-on-write) instead of loading a copy. It answers two kinds of request
from its end of a socket pair, in order:
- `parse`: the NLU's reading of a text;
- `turn`: one turn of the conversation flow (`flows.conversation.handle`) on a state
  as stored (encrypted); it gives back the new state, encrypted, and the actions. The
  app stores them only if the stored state did not change meanwhile (see `bot.app`).
Texts and states travel only over the socket pair; the worker writes nothing to disk
and logs nothing of them.

The worker can only make the bot faster: when it has died, hangs (answers nothing) or
answers something unreadable, the bot does the work itself, as it does without a
worker (`parse` and `turn` return None).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import pickle
import signal
import socket
import struct
import sys
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from flows import conversation
from flows.actions import Action
from flows.context import FlowContext
from flows.events import ParentText
from flows.state import ConversationState

if TYPE_CHECKING:
    from nlu.pipeline import Nlu, NluResult
    from storage.crypto import FieldCipher

log = logging.getLogger(__name__)

_LENGTH = struct.Struct("!I")
# A parse takes milliseconds: a worker that has answered nothing in this time while a
# text waited hangs, and is stopped. (A worker that answers, only later than this because
# the bot is busy and reads the answers late, is working: it is left alone.) With more
# texts than MAX_WAITING in its queue (a burst of thousands of parents at once) the bot
# reads the next one itself; it also bounds the memory they hold.
ANSWER_WITHIN_SECONDS = 2.0
MAX_WAITING = 1000
WARM_UP_TEXT = "mijn kind slaapt slecht"  # not from any parent
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class WorkerTurn:
    """One turn of the conversation flow, as the worker decided it."""

    state: bytes  # the new state, encrypted as the store keeps it
    step: str
    actions: list[Action]


class NluWorker:
    """The bot's side of one worker process (see the module docstring)."""

    def __init__(
        self, pid: int, contexts: dict[str, FlowContext], cipher: FieldCipher | None
    ) -> None:
        self.pid = pid
        # What the worker decides turns with (copies of these objects): the app gives it a
        # turn only with these very ones.
        self.contexts = dict(contexts)
        self.cipher = cipher
        self._transport: asyncio.Transport | None = None
        self._closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting: deque[asyncio.Future[Any]] = deque()
        self._alive = True
        self._answers = 0  # read so far: the worker's progress
        self._watchdog: asyncio.Handle | None = None  # armed while texts wait
        self._reaped: asyncio.Future[None] | None = None

    @classmethod
    async def start(
        cls,
        nlu: Nlu,
        contexts: dict[str, FlowContext] | None = None,
        cipher: FieldCipher | None = None,
    ) -> NluWorker:
        """Fork the worker. Call it before threads start: a fork copies only this one.

        With `contexts` (per channel) and the store's `cipher` it also decides turns.
        """
        contexts = contexts or {}
        ours, theirs = socket.socketpair()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the worker: never returns into the bot's code
            try:
                ours.close()
                _serve(nlu, contexts, cipher, theirs)
            finally:
                os._exit(1)
        theirs.close()
        worker = cls(pid, contexts, cipher)
        loop = asyncio.get_running_loop()
        await loop.create_connection(lambda: _Answers(worker), sock=ours)
        log.info("nlu_worker_started")
        return worker

    @property
    def alive(self) -> bool:
        return self._alive

    async def parse(self, text: str) -> NluResult | None:
        """The worker's reading of `text`; None if it cannot give one."""
        result: NluResult | None = await self._ask(("parse", text))
        return result

    def decides_turns(self, channel: str, context: FlowContext, cipher: FieldCipher) -> bool:
        """It decides turns of `channel` with this very context and cipher."""
        return self.contexts.get(channel) is context and self.cipher is cipher

    async def turn(
        self, channel: str, state: bytes | None, event: ParentText, now: datetime
    ) -> WorkerTurn | None:
        """One turn of the conversation flow on `state` (as stored; None: a new parent).

        None if the worker cannot give it: the app then decides the turn itself.
        """
        # Plain values: a dataclass and an aware datetime pickle slowly (in Python code).
        # The time goes as microseconds, with its zone only when that is not UTC.
        moment = (now - _EPOCH) // _MICROSECOND
        zone = None if now.tzinfo is UTC else now.tzinfo
        request = ("turn", channel, state, event.text, event.button, moment, zone)
        result: WorkerTurn | None = await self._ask(request)
        return result

    async def _ask(self, request: tuple[Any, ...]) -> Any:
        if not self._alive or len(self._waiting) >= MAX_WAITING:
            return None
        data = pickle.dumps(request, protocol=pickle.HIGHEST_PROTOCOL)
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[Any] = loop.create_future()
        self._waiting.append(answer)
        assert self._transport is not None
        self._transport.write(_LENGTH.pack(len(data)) + data)
        if self._watchdog is None:
            self._watch(loop)
        return await answer

    def _watch(self, loop: asyncio.AbstractEventLoop) -> None:
        """Check in ANSWER_WITHIN_SECONDS that the worker answered something meanwhile."""
        self._watchdog = loop.call_later(ANSWER_WITHIN_SECONDS, self._look, self._answers)

    def _look(self, answers_then: int) -> None:
        # Answers that came while the bot was too busy to read them are read first: their
        # reading was queued before this step.
        self._watchdog = asyncio.get_running_loop().call_soon(self._judge, answers_then)

    def _judge(self, answers_then: int) -> None:
        """Answers came: it works (through a queue, maybe). None while texts wait: it hangs."""
        self._watchdog = None
        if not self._waiting or not self._alive:
            return
        if self._answers > answers_then:
            self._watch(asyncio.get_running_loop())
            return
        log.warning("nlu_worker_unresponsive")
        self._alive = False
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)  # its socket closes: every waiting text gives up

    def _answered(self, data: bytes) -> None:
        """One answer arrived (answers come in the order asked)."""
        answer = self._waiting.popleft()
        self._answers += 1
        try:
            result = pickle.loads(data)  # noqa: S301 (our own worker)
        except Exception:
            _give_up(answer)
            raise
        if not answer.done():
            answer.set_result(result)

    def _stopped(self, unreadable: bool) -> None:
        """The socket closed (the worker died, or the bot closes it) or an answer was bad."""
        if self._alive:
            log.warning("nlu_worker_stopped")
        self._alive = False
        if self._watchdog is not None:
            self._watchdog.cancel()
        while self._waiting:
            _give_up(self._waiting.popleft())
        if unreadable and self._transport is not None:
            self._transport.close()
        self._collect_exit_status()

    async def close(self) -> None:
        """Stop the worker and wait for it to exit (it ends when its socket closes)."""
        self._alive = False
        if self._transport is not None:
            self._transport.close()
        await self._closed
        await self._collect_exit_status()

    def _collect_exit_status(self) -> asyncio.Future[None]:
        """Wait (in a thread) for the worker to exit, once: no zombie is left."""
        if self._reaped is None:
            self._reaped = asyncio.ensure_future(asyncio.to_thread(_reap, self.pid))
        return self._reaped


class _Answers(asyncio.Protocol):
    """The bot's end of the socket pair: each answer goes to its request as it arrives.

    (No reading task in between: the parent's message goes on one loop turn sooner.)
    """

    def __init__(self, worker: NluWorker) -> None:
        self.worker = worker
        self.buffer = bytearray()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.worker._transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        start = 0
        try:
            while len(buffer) - start >= _LENGTH.size:
                (size,) = _LENGTH.unpack_from(buffer, start)
                end = start + _LENGTH.size + size
                if len(buffer) < end:
                    break
                self.worker._answered(bytes(buffer[start + _LENGTH.size : end]))
                start = end
        except Exception:  # an answer that cannot be read: the bot reads by itself
            self.worker._stopped(unreadable=True)
        finally:
            del buffer[:start]

    def connection_lost(self, exc: Exception | None) -> None:
        self.worker._stopped(unreadable=False)
        if not self.worker._closed.done():
            self.worker._closed.set_result(None)


def _give_up(answer: asyncio.Future[Any]) -> None:
    if not answer.done():
        answer.set_result(None)


def _reap(pid: int, within: float = 5.0) -> None:
    """Wait for the worker to exit; kill it if it does not within `within` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return
        if done:
            return
        time.sleep(0.01)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


def _serve(
    nlu: Nlu,
    contexts: dict[str, FlowContext],
    cipher: FieldCipher | None,
    sock: socket.socket,
) -> None:
    """The worker's loop: a request in, its answer out, until the bot closes the socket."""
    code = 0
    try:
        # The bot handles signals (its event loop's wake-up descriptor is shared):
        # here SIGTERM and Ctrl-C simply end the worker, and the bot reads by itself.
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        stream = sock.makefile("rwb")
        while True:
            head = stream.read(_LENGTH.size)
            if len(head) < _LENGTH.size:
                break  # the bot closed its end
            (size,) = _LENGTH.unpack(head)
            try:
                request = pickle.loads(stream.read(size))  # noqa: S301 (from the bot)
                result: object = _answer(nlu, contexts, cipher, request)
            except Exception as exc:  # the bot does this one itself (and logs it too)
                log.warning("nlu_worker_request_failed", extra={"status": type(exc).__name__})
                result = None
            data = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
            stream.write(_LENGTH.pack(len(data)) + data)
            stream.flush()
    except BaseException:  # noqa: BLE001 (nothing may escape into the bot's code)
        code = 1
    finally:
        os._exit(code)


def _answer(
    nlu: Nlu,
    contexts: dict[str, FlowContext],
    cipher: FieldCipher | None,
    request: tuple[Any, ...],
) -> object:
    if request[0] == "parse":
        return nlu.parse(request[1])
    _, channel, blob, text, button, moment, zone = request
    if cipher is None or channel not in contexts:
        return None
    event = ParentText(text, button=button)
    now = _EPOCH + timedelta(microseconds=moment)
    if zone is not None:
        now = now.astimezone(zone)
    state = (
        ConversationState()
        if blob is None
        else ConversationState.model_validate_json(cipher.decrypt(blob))
    )
    new_state, actions = conversation.handle(
        state, event, now, contexts[channel], hand_over_state=True
    )
    return WorkerTurn(cipher.encrypt(new_state.model_dump_json()), new_state.step.value, actions)
