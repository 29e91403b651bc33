"""Throughput and latency of the whole in-process pipeline, 1,000 conversations at once.

Channel event -> NLU -> flows -> SQLite/PostgreSQL (encrypted) -> replies and room posts,
with in-memory gateways. Two measurements on the same database:

- saturation: every conversation sends its next message as soon as the bot answered the
  last one (all at once): the most messages per second the pipeline handles;
- latency at a rate: messages arrive at `--rate` per second, spread over all open
  conversations (a parent sends the next message only after the answer). Arrivals are
  Poisson (independent parents: bursts happen) or, with `--arrivals constant`, evenly
  spaced. Latency is counted from the moment a message arrives, so queueing shows.

    python bench/pipeline_latency.py [--conversations 1000] [--rate 500]
                                     [--arrivals poisson|constant] [--db URL]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from collections import deque
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


def cold_cpu_factor(app: App) -> tuple[float, float]:
    """The same NLU parse back to back and after 10 ms idle (ms, p50 of 200 each).

    On some virtual machines a core that idled is several times slower for a while: then
    latency at a moderate rate is worse than at saturation. This makes that visible.
    """
    understand = app.staff_context.understand
    text = "mijn dochter van 3 slaapt heel slecht, ze wordt elke nacht wakker"
    result = []
    for idle in (0.0, 0.01):
        times = []
        for _ in range(200):
            if idle:
                time.sleep(idle)
            began = time.perf_counter()
            understand(text)
            times.append((time.perf_counter() - began) * 1000)
        result.append(statistics.median(times))
    return result[0], result[1]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


async def saturation(app: App, conversations: int, prefix: str) -> tuple[int, float, float]:
    """All conversations at once, each message right after the last answer.

    Returns the messages, the elapsed time and the CPU time this process used."""

    async def one(index: int) -> None:
        for text in SCRIPTS[index % len(SCRIPTS)]:
            await app.handle_parent("console", f"{prefix}-{index}", ParentText(text))

    began, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(one(i) for i in range(conversations)))
    messages = sum(len(SCRIPTS[i % len(SCRIPTS)]) for i in range(conversations))
    return messages, time.perf_counter() - began, time.process_time() - cpu


async def at_rate(
    app: App, conversations: int, rate: float, prefix: str, poisson: bool = True
) -> tuple[list[float], float]:
    """Messages arrive at `rate` per second; returns latencies (ms) and the elapsed time."""
    rng = random.Random(7)
    pending = {i: deque(SCRIPTS[i % len(SCRIPTS)]) for i in range(conversations)}
    ready: deque[int] = deque(rng.sample(range(conversations), conversations))
    wake = asyncio.Event()
    latencies: list[float] = []
    tasks: set[asyncio.Task[None]] = set()

    async def send(index: int, arrived: float) -> None:
        text = pending[index].popleft()
        await app.handle_parent("console", f"{prefix}-{index}", ParentText(text))
        latencies.append((time.perf_counter() - arrived) * 1000)
        if pending[index]:
            ready.append(index)  # the parent reads the answer and writes again
            wake.set()

    total = sum(len(q) for q in pending.values())
    began = time.perf_counter()
    arrival = began
    for _ in range(total):
        arrival += rng.expovariate(rate) if poisson else 1 / rate
        delay = arrival - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        while not ready:  # every open conversation waits for an answer
            wake.clear()
            await wake.wait()
        task = asyncio.create_task(send(ready.popleft(), arrival))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    await asyncio.gather(*tasks)
    return latencies, time.perf_counter() - began


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=500.0, help="offered messages/s")
    parser.add_argument("--arrivals", choices=("poisson", "constant"), default="poisson")
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

    app = runtime.app
    warm, cold = cold_cpu_factor(app)
    messages, elapsed, cpu = await saturation(app, args.conversations, "sat")
    latencies, rate_elapsed = await at_rate(
        app, args.conversations, args.rate, "rate", poisson=args.arrivals == "poisson"
    )
    # Partners claim what was handed over (the staff side of the pipeline).
    staff = Staff("Bench", "lumens", "@bench:cjg.test")
    await app.handle_room_message("loket", Staff("Loket", "loket", "@l:cjg"), "!open")
    await app.handle_room_message("lumens", staff, "!claim 1")
    await runtime.close()
    print(
        f"machine      {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
        f"{datetime.now(UTC):%Y-%m-%d}"
    )
    print(f"database     {url.split(':')[0]}")
    print(f"start-up     {startup:.2f} s (storage, migrations, NLU load)")
    print(
        f"saturation   {messages} messages in {args.conversations} conversations at once: "
        f"{messages / elapsed:.0f} messages/s, {cpu / messages * 1000:.2f} ms CPU per message "
        "in this process"
    )
    print(
        f"at a rate    {len(latencies)} messages offered at {args.rate:.0f}/s "
        f"({args.arrivals}) over "
        f"{args.conversations} open conversations: {len(latencies) / rate_elapsed:.0f} "
        f"messages/s, latency p50 {statistics.median(latencies):.2f} ms, "
        f"p99 {percentile(latencies, 0.99):.2f} ms"
    )
    print(f"memory       {rss_mb():.0f} MB resident (peak)")
    print(f"cpu check    one NLU parse {warm:.2f} ms back to back, {cold:.2f} ms after 10 ms idle")


if __name__ == "__main__":
    asyncio.run(main())
