"""Matrix latency: from a parent's message to the bot's reply, through a real Synapse.

Starts a throw-away Synapse (from .venv-synapse, see .ci/install-synapse.sh) on 127.0.0.1,
runs the bot's Matrix channel in-process, and lets a simulated parent (matrix-nio, its own
E2E store) send N messages one after another in a direct chat, timing each until the
bot's first reply is received by the parent. Prints p50/p99.

    python bench/matrix_latency.py [-n 100] [--plain] [--real-nlu]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from matrix.people import Person  # noqa: E402
from matrix.synapse import Synapse  # noqa: E402

from bot.app import App  # noqa: E402
from bot.channels.matrix import MatrixChannel, MatrixSettings, run_matrix  # noqa: E402
from bot.config import load_settings  # noqa: E402
from bot.runtime import flow_contexts, load_nlu  # noqa: E402
from storage.crypto import FieldCipher  # noqa: E402
from storage.database import open_database  # noqa: E402
from storage.repository import Store  # noqa: E402
from support.flows import FakeNlu  # noqa: E402

MESSAGES = ("mijn dochter slaapt slecht", "hallo", "hoe gaat het met de driftbui")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))
    return ordered[index]


async def run(count: int, encrypted: bool, real_nlu: bool, work: Path) -> list[float]:
    synapse = Synapse(work / "synapse")
    synapse.start()
    try:
        bot = synapse.register("cjgbot")
        settings = load_settings(environ={})
        config = MatrixSettings(
            homeserver=synapse.url,
            user_id=bot.user_id,
            password=bot.password,
            store_path=work / "bot-store",
        )
        engine = await open_database(f"sqlite+aiosqlite:///{work / 'bot.sqlite3'}")
        store = Store(engine, FieldCipher.from_environment(work / "secret.key"))
        channel = MatrixChannel(config, {})
        understand = load_nlu(settings) if real_nlu else FakeNlu()
        app = App(store, flow_contexts(settings, understand), channel.rooms)  # type: ignore[arg-type]
        task = asyncio.create_task(run_matrix(app, channel))
        await asyncio.wait_for(channel.ready.wait(), 60)
        account = synapse.register("parent")
        parent = Person(synapse, account, work / "parent-store")
        await parent.start()
        room = await parent.direct_chat(bot.user_id, encrypted)
        await parent.wait_joined(room, bot.user_id)
        timings: list[float] = []
        for index in range(count):
            mark = parent.mark()
            started = time.perf_counter()
            await parent.say(room, MESSAGES[index % len(MESSAGES)])
            await parent.wait_for(room, lambda e: True, sender=bot.user_id, after=mark)
            timings.append((time.perf_counter() - started) * 1000)
        await channel.stop()
        await task
        await parent.close()
        await store.close()
        return timings
    finally:
        synapse.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--count", type=int, default=100)
    parser.add_argument("--plain", action="store_true", help="an unencrypted direct chat")
    parser.add_argument("--real-nlu", action="store_true", help="the embedded classifier")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        timings = asyncio.run(run(args.count, not args.plain, args.real_nlu, Path(tmp)))
    room = "unencrypted" if args.plain else "encrypted"
    nlu = "embedded classifier" if args.real_nlu else "rule-based stand-in NLU"
    print(
        f"matrix latency, parent message -> bot reply, {len(timings)} messages, "
        f"{room} direct chat, {nlu}"
    )
    print(f"  p50 {statistics.median(timings):7.1f} ms")
    print(f"  p99 {percentile(timings, 99):7.1f} ms")
    print(f"  max {max(timings):7.1f} ms   mean {statistics.fmean(timings):7.1f} ms")


if __name__ == "__main__":
    main()
