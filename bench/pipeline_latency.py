"""Per-message latency and throughput of the whole in-process pipeline.

Channel event -> NLU -> flows -> SQLite/PostgreSQL (encrypted) -> replies and room posts,
with in-memory gateways. Prints start-up time, p50/p99 latency, messages per second and
resident memory.

    python bench/pipeline_latency.py [--conversations 200] [--concurrency 50] [--db URL]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.app import App  # noqa: E402
from bot.config import load_settings  # noqa: E402
from bot.runtime import build_runtime  # noqa: E402
from flows.actions import Reply  # noqa: E402
from flows.events import ParentText, Staff  # noqa: E402

SCRIPTS = [
    ["hoi", "mijn dochter van 3 slaapt heel slecht, ze wordt elke nacht wakker", "ja"],
    [
        "ons kind wordt gepest op school, kan iemand ons helpen?",
        "Veldhoven",
        "9",
        "zoon",
        "ja",
        "06-48213579, liever gebeld",
        "Sanne",
        "ja",
    ],
    [
        "we hebben zoveel problemen thuis, ik weet niet meer waar ik moet beginnen",
        "Eindhoven",
        "14",
        "meisje",
        "ja",
        "ouder@voorbeeld.nl",
        "anoniem",
        "klopt",
    ],
    ["hoe vraag ik een paspoort aan"],
    [
        "wat is een gezonde hoeveelheid schermtijd voor een kind van 8?",
        "nee",
        "Veldhoven",
        "ja",
        "0612345678",
        "Kim",
        "ja",
    ],
]


class NullParents:
    async def send(self, address: str, reply: Reply) -> str | None:
        return "m"


class NullRooms:
    def __init__(self) -> None:
        self.count = 0

    async def post(
        self, room: str, text: str, kind: str, handover: int | None, mention: str | None = None
    ) -> str | None:
        self.count += 1
        return f"$p{self.count}"

    async def redact(self, room: str, message_ref: str) -> None:
        return None


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def conversation(app: App, index: int, latencies: list[float]) -> None:
    script = SCRIPTS[index % len(SCRIPTS)]
    address = f"bench-{index}"
    for text in script:
        started = time.perf_counter()
        await app.handle_parent("console", address, ParentText(text))
        latencies.append((time.perf_counter() - started) * 1000)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--db", default=None, help="database URL (default: a temporary SQLite)")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="cjgbench-")
    url = args.db or f"sqlite+aiosqlite:///{tmp}/bench.sqlite3"
    settings = load_settings(
        environ={
            "CJGBOT__STORAGE__DATABASE_URL": url,
            "CJGBOT__STORAGE__KEY_FILE": f"{tmp}/secret.key",
        }
    )
    started = time.perf_counter()
    runtime = await build_runtime(settings, NullRooms())
    runtime.app.add_parent_channel("console", NullParents())
    startup = time.perf_counter() - started
    latencies: list[float] = []
    semaphore = asyncio.Semaphore(args.concurrency)

    async def limited(index: int) -> None:
        async with semaphore:
            await conversation(runtime.app, index, latencies)

    began = time.perf_counter()
    await asyncio.gather(*(limited(i) for i in range(args.conversations)))
    elapsed = time.perf_counter() - began
    # Partners claim what was handed over (the staff side of the pipeline).
    staff = Staff("Bench", "lumens", "@bench:cjg.test")
    await runtime.app.handle_room_message("loket", Staff("Loket", "loket", "@l:cjg"), "!open")
    await runtime.app.handle_room_message("lumens", staff, "!claim 1")
    await runtime.close()
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    print(
        f"machine      {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
        f"{datetime.now(UTC):%Y-%m-%d}"
    )
    print(f"database     {url.split(':')[0]}")
    print(f"start-up     {startup:.2f} s (storage, migrations, NLU load)")
    print(
        f"messages     {len(latencies)} in {args.conversations} conversations, "
        f"concurrency {args.concurrency}"
    )
    print(f"latency      p50 {statistics.median(latencies):.2f} ms, p99 {p99:.2f} ms")
    print(f"throughput   {len(latencies) / elapsed:.0f} messages/s")
    print(f"memory       {rss_mb():.0f} MB resident (peak)")


if __name__ == "__main__":
    asyncio.run(main())
