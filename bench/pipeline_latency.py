"""Throughput and latency of the whole in-process pipeline, 1,000 conversations at once.

Channel event -> NLU -> flows -> SQLite/PostgreSQL (encrypted) -> replies and room posts,
with in-memory gateways. Two measurements on the same database:

- saturation: every conversation sends its next message as soon as the bot answered the
  last one (all at once): the most messages per second the pipeline handles;
- latency at a rate: messages arrive at `--rate` per second, spread over all open
  conversations (a parent sends the next message only after the answer). Arrivals are
  Poisson (independent parents: bursts happen) or, with `--arrivals constant`, evenly
  spaced. Latency is counted from the moment a message arrives, so queueing shows.
  Steady state: 1,000 conversations stay open, each message comes from a random one of
  those waiting to write, and when one ends a new parent starts. So, as in real traffic,
  at any moment some parents ask, some give their woonplaats, some confirm a handover.
  The first round of messages (when all conversations are still at their first message)
  warms up and is not counted; the next round is. `--lockstep` takes the first 1,000
  conversations in turn instead, all at the same step at once: their 600 handovers (the
  most expensive message, with up to five room posts) arrive within a second or so, a
  worst case.

  With more than one core the bot reads messages and decides the answers in an NLU worker
  process (as deployed); `--no-worker` does it all in the bot's own process. CPU and
  memory are given for both; the at-rate line adds the bot's CPU per message at that rate.

    python bench/pipeline_latency.py [--conversations 1000] [--rate 500]
                                     [--arrivals poisson|constant] [--lockstep] [--db URL]
                                     [--no-worker]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import logging
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
from bot.logs import setup_logging  # noqa: E402
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
        "jongen",
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


def worker_cpu(pid: int | None) -> float:
    """CPU seconds the NLU worker process has used (0 without a worker)."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def worker_memory_mb(pid: int | None) -> tuple[float, float]:
    """The NLU worker's resident memory: its own pages, and those it shares with the bot."""
    if pid is None:
        return 0.0, 0.0
    kb = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value = line.split(":", 1)
        kb[name] = int(value.split()[0])
    own = kb["Private_Clean"] + kb["Private_Dirty"]
    return own / 1024, (kb["Shared_Clean"] + kb["Shared_Dirty"]) / 1024


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
    app: App,
    conversations: int,
    rate: float,
    prefix: str,
    poisson: bool = True,
    lockstep: bool = False,
) -> tuple[list[float], float]:
    """Messages arrive at `rate` per second; returns latencies (ms) and the elapsed time.

    Steady state (default): `conversations` stay open; each message comes from a random one
    of those waiting to write, and a finished conversation makes room for a new one. The
    first round (as many messages as all scripts of the first conversations hold) is not
    counted: it starts with every conversation at its first message. Then as many messages
    again are counted. `lockstep`: the first conversations only, taken in turn.
    """
    rng = random.Random(7)
    scripts: dict[int, deque[str]] = {}
    numbers = itertools.count()

    def open_conversation() -> int:
        index = next(numbers)  # a new parent: never an earlier one's chat
        scripts[index] = deque(SCRIPTS[index % len(SCRIPTS)])
        return index

    ready: deque[int] = deque(open_conversation() for _ in range(conversations))
    rng.shuffle(ready)
    one_round = sum(len(q) for q in scripts.values())
    warm_up = 0 if lockstep else one_round
    wake = asyncio.Event()
    latencies: list[float] = []
    tasks: set[asyncio.Task[None]] = set()

    def next_writer() -> int:
        if not lockstep:
            ready.rotate(-rng.randrange(len(ready)))  # a random one of those waiting
        return ready.popleft()

    async def send(index: int, arrived: float, counted: bool) -> None:
        text = scripts[index].popleft()
        await app.handle_parent("console", f"{prefix}-{index}", ParentText(text))
        if counted:
            latencies.append((time.perf_counter() - arrived) * 1000)
        if scripts[index]:
            ready.append(index)  # the parent reads the answer and writes again
        else:
            del scripts[index]
            if not lockstep:
                ready.append(open_conversation())  # another parent starts
        wake.set()

    began = time.perf_counter()
    arrival = began
    counted_from = began
    for number in range(warm_up + one_round):
        if number == warm_up:
            counted_from = arrival
        arrival += rng.expovariate(rate) if poisson else 1 / rate
        delay = arrival - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        while not ready:  # every open conversation waits for an answer
            wake.clear()
            await wake.wait()
        task = asyncio.create_task(send(next_writer(), arrival, number >= warm_up))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    await asyncio.gather(*tasks)
    return latencies, time.perf_counter() - counted_from


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=500.0, help="offered messages/s")
    parser.add_argument("--arrivals", choices=("poisson", "constant"), default="poisson")
    parser.add_argument(
        "--lockstep", action="store_true", help="all conversations at the same step at once"
    )
    parser.add_argument("--db", default=None, help="database URL (default: a temporary SQLite)")
    parser.add_argument(
        "--no-worker", action="store_true", help="read messages in this process (no NLU worker)"
    )
    args = parser.parse_args()
    # As in production: a JSON log line per message at INFO (here into /dev/null).
    setup_logging("INFO")
    logging.getLogger().handlers[0].setStream(open(os.devnull, "w"))  # noqa: SIM115, ASYNC230
    tmp = tempfile.mkdtemp(prefix="cjgbench-")
    url = args.db or f"sqlite+aiosqlite:///{tmp}/bench.sqlite3"
    settings = load_settings(
        environ={
            "CJGBOT__STORAGE__DATABASE_URL": url,
            "CJGBOT__STORAGE__KEY_FILE": f"{tmp}/secret.key",
            "CJGBOT__NLU__WORKER_PROCESS": "false" if args.no_worker else "auto",
        }
    )
    started = time.perf_counter()
    runtime = await build_runtime(settings, NullRooms())
    runtime.app.add_parent_channel("console", NullParents())
    startup = time.perf_counter() - started

    app = runtime.app
    worker = runtime.nlu_worker.pid if runtime.nlu_worker else None
    warm, cold = cold_cpu_factor(app)
    worker_began = worker_cpu(worker)
    messages, elapsed, cpu = await saturation(app, args.conversations, "sat")
    worker_used = worker_cpu(worker) - worker_began
    rate_cpu = time.process_time()
    latencies, rate_elapsed = await at_rate(
        app,
        args.conversations,
        args.rate,
        "rate",
        poisson=args.arrivals == "poisson",
        lockstep=args.lockstep,
    )
    rounds = 1 if args.lockstep else 2  # the warm-up round ran too
    rate_cpu = (time.process_time() - rate_cpu) / (rounds * len(latencies))
    # Partners claim what was handed over (the staff side of the pipeline).
    staff = Staff("Bench", "lumens", "@bench:cjg.test")
    await app.handle_room_message("loket", Staff("Loket", "loket", "@l:cjg"), "!open")
    await app.handle_room_message("lumens", staff, "!claim 1")
    worker_own, worker_shared = worker_memory_mb(worker)
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
        + (f" + {worker_used / messages * 1000:.2f} ms in the NLU worker" if worker else "")
    )
    print(
        f"at a rate    {len(latencies)} messages offered at {args.rate:.0f}/s "
        f"({args.arrivals}{', lockstep' if args.lockstep else ''}) over "
        f"{args.conversations} open conversations: {len(latencies) / rate_elapsed:.0f} "
        f"messages/s, latency p50 {statistics.median(latencies):.2f} ms, "
        f"p99 {percentile(latencies, 0.99):.2f} ms; {rate_cpu * 1000:.2f} ms CPU per message "
        "in this process"
    )
    print(
        f"memory       {rss_mb():.0f} MB resident (peak)"
        + (
            f"; NLU worker {worker_own:.0f} MB of its own ({worker_shared:.0f} MB shared "
            "with the bot)"
            if worker
            else ""
        )
    )
    print(f"cpu check    one NLU parse {warm:.2f} ms back to back, {cold:.2f} ms after 10 ms idle")


if __name__ == "__main__":
    asyncio.run(main())
