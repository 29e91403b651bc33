"""Where the Matrix sync stands, persisted in the bot's database (settings table).

`since` is the sync token from which a restart resumes; `done` lists the events after
`since` that were already handled. The bot only moves `since` forward once every event of
the batches after it is handled, and records each handled event at once, so a restart
neither handles an event twice nor skips one (up to the one event in flight at a crash).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from storage.repository import Store

KEY_PREFIX = "matrix.sync:"
MAX_DONE = 200  # 16 characters each in JSON: the settings value column holds 4096


def short_id(event_id: str) -> str:
    """A 12-hex-digit digest of an event id: small enough to keep hundreds in one setting."""
    return hashlib.blake2b(event_id.encode(), digest_size=6).hexdigest()


@dataclass
class Checkpoint:
    since: str | None = None
    done: list[str] = field(default_factory=list)  # short_id()s of handled events

    def is_done(self, event_id: str) -> bool:
        return short_id(event_id) in self.done

    def mark(self, event_id: str) -> None:
        self.done.append(short_id(event_id))
        del self.done[:-MAX_DONE]


class CheckpointStore:
    def __init__(self, store: Store, user_id: str) -> None:
        self.store = store
        self.key = KEY_PREFIX + short_id(user_id)

    async def load(self) -> Checkpoint:
        async with self.store.transaction() as repo:
            raw = await repo.get_setting(self.key)
        if not raw:
            return Checkpoint()
        data = json.loads(raw)
        return Checkpoint(data.get("since"), list(data.get("done", [])))

    async def save(self, checkpoint: Checkpoint) -> None:
        value = json.dumps({"since": checkpoint.since, "done": checkpoint.done})
        async with self.store.transaction() as repo:
            await repo.set_setting(self.key, value)
