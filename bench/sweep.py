"""How fast the sweeper deletes: N handovers due at once (default 100,000).

Seeds N claimed handovers with encrypted details, room posts and due deadlines straight
into the database, then times one `Sweeper.sweep()` (rows purged, audit events written,
room copies "redacted" through an in-memory gateway).

    python bench/sweep.py [--count 100000] [--db URL]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cryptography.fernet import Fernet  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from bot.app import App  # noqa: E402
from bot.config import load_settings  # noqa: E402
from bot.retention import Sweeper  # noqa: E402
from bot.runtime import flow_contexts  # noqa: E402
from storage.crypto import FieldCipher  # noqa: E402
from storage.database import open_database  # noqa: E402
from storage.models import HandoverRow, RoomPostRow  # noqa: E402
from storage.repository import Store  # noqa: E402


class NullRooms:
    redactions = 0

    async def post(self, room, text, kind, handover, mention=None):  # type: ignore[no-untyped-def]
        return None

    async def redact(self, room: str, message_ref: str) -> None:
        NullRooms.redactions += 1


class NoNlu:
    def parse(self, text: str) -> None:
        raise RuntimeError("not needed")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--db", default=None)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="cjgsweep-")
    url = args.db or f"sqlite+aiosqlite:///{tmp}/sweep.sqlite3"
    cipher = FieldCipher([Fernet.generate_key()])
    store = Store(await open_database(url), cipher)
    past = datetime.now(UTC) - timedelta(days=30)
    details = json.dumps({"summary": "Een vraag die weg moet.", "place": "Veldhoven",
                          "age": "9 jaar", "sex": "jongen", "contact": "Sanne, +31648213579",
                          "language": "nl", "promise": "maandag"})
    started = time.perf_counter()
    async with store.transaction() as repo:
        for first in range(1, args.count + 1, 5000):
            numbers = range(first, min(args.count, first + 4999) + 1)
            await repo.session.execute(insert(HandoverRow), [
                {"number": n, "conversation_id": None, "status": "claimed", "targets": ["lumens"],
                 "urgent": False, "created_at": past, "purge_at": past, "purged": False,
                 "state": cipher.encrypt("{}"), "details": cipher.encrypt(details)}
                for n in numbers])
            await repo.session.execute(insert(RoomPostRow), [
                {"handover_number": n, "room": "lumens", "kind": "handover",
                 "message_ref": f"$event{n}", "created_at": past, "redacted": False}
                for n in numbers])
    seeded = time.perf_counter() - started
    settings = load_settings(environ={})
    app = App(store, flow_contexts(settings, NoNlu()), NullRooms())  # type: ignore[arg-type]
    started = time.perf_counter()
    report = await Sweeper(app, batch=settings.retention.sweep_batch_size).sweep()
    elapsed = time.perf_counter() - started
    await store.close()
    print(f"database     {url.split(':')[0]}")
    print(f"seeded       {args.count} due handovers in {seeded:.1f} s")
    print(f"sweep        {report.handovers_purged} purged, {NullRooms.redactions} room copies "
          f"redacted in {elapsed:.1f} s ({report.handovers_purged / elapsed:.0f}/s)")
    print(f"memory       {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB peak")


if __name__ == "__main__":
    asyncio.run(main())
