"""Speed and size of the embedded NLU classifier, against the targets of the project.

Measures, on this machine:

* training time on all training data (`Nlu.load(retrain=True)`, fresh cache dir);
* parse latency p50/p99 over the dev set's texts, repeated (warm, one thread);
* start-up: a new Python process, from its start until the NLU (cached model) answers;
  also with an empty cache (the model is trained at start-up) and for the whole bot
  (all channel modules imported, storage migrated, runtime built);
* resident memory (VmRSS) of a process with only the NLU loaded and of the whole bot.

    python bench/nlu_speed.py [--repeat 20] [--train-runs 3] [--json]

Targets: training < 10 s, parse p99 < 5 ms, RSS of the bot < 200 MB, start-up < 2 s.
The helpers here (`percentile`, `rss_of`, `child_startup`, ...) are shared with
bench/nlu_compare.py.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEV_SET = Path(__file__).resolve().parents[2] / "shared" / "eval" / "dev.jsonl"
sys.path.insert(0, str(REPO))

TARGETS = {
    "train_s": 10.0,
    "parse_p99_ms": 5.0,
    "bot_rss_mb": 200.0,
    "startup_s": 2.0,
}
READY = "READY "
CHILD_TIMEOUT = 300.0


# --------------------------------------------------------------------------- helpers


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def _proc_status(pid: int | str) -> dict[str, str]:
    out = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as fh:
        for line in fh:
            key, _, value = line.partition(":")
            out[key] = value.strip()
    return out


def _kb(value: str) -> float:
    return float(value.split()[0]) / 1024  # "123456 kB" -> MB


def rss_of(pid: int | str = "self") -> dict[str, float]:
    """Resident memory of one process in MB: now (VmRSS) and peak (VmHWM)."""
    status = _proc_status(pid)
    return {"rss_mb": _kb(status["VmRSS"]), "peak_mb": _kb(status["VmHWM"])}


def descendants(pid: int) -> list[int]:
    """`pid` and all its child processes (from /proc/*/stat)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        todo.extend(children.get(current, []))
    return out


def tree_rss_mb(pid: int) -> float:
    """Summed VmRSS of a process and its children, in MB."""
    total = 0.0
    for p in descendants(pid):
        try:
            total += rss_of(p)["rss_mb"]
        except (OSError, KeyError):
            continue
    return total


def dev_texts() -> list[str]:
    from nlu.evaluate import load_rows

    return [row.text for row in load_rows(DEV_SET)]


def parse_latencies_ms(parse: Any, texts: list[str], repeat: int) -> list[float]:
    """Per-call wall time of `parse` over `texts` x `repeat`, after one warm-up pass."""
    for text in texts:
        parse(text)
    out = []
    for _ in range(repeat):
        for text in texts:
            started = time.perf_counter_ns()
            parse(text)
            out.append((time.perf_counter_ns() - started) / 1e6)
    return out


def latency_summary(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50_ms": percentile(values, 50),
        "p99_ms": percentile(values, 99),
        "mean_ms": statistics.fmean(values),
        "max_ms": max(values),
    }


def child_startup(kind: str, cache_dir: Path, extra_env: dict[str, str] | None = None) -> dict:
    """Start `python bench/nlu_speed.py --child KIND` and time it until it reports ready.

    The child prints one line `READY {json}` (its memory) when the NLU has answered a
    first message; the time is taken in this process, from just before the start.
    """
    env = {**os.environ, **(extra_env or {})}
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        kind,
        "--cache",
        str(cache_dir),
    ]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env, cwd=REPO)
    assert proc.stdout is not None
    try:
        for line in proc.stdout:
            if line.startswith(READY):
                elapsed = time.perf_counter() - started
                info = json.loads(line[len(READY) :])
                proc.stdout.read()
                proc.wait(timeout=CHILD_TIMEOUT)
                return {"startup_s": elapsed, **info}
        raise RuntimeError(f"child {kind} exited with {proc.wait()} before it was ready")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# --------------------------------------------------------------------------- children


def _child_nlu(cache_dir: str) -> None:
    from nlu.pipeline import Nlu

    nlu = Nlu.load(cache_dir=cache_dir)
    nlu.parse("mijn peuter slaapt slecht")
    print(READY + json.dumps(rss_of()), flush=True)


class _NullRooms:
    async def post(
        self, room: str, text: str, kind: str, handover: int | None, mention: str | None = None
    ) -> str | None:
        return None

    async def redact(self, room: str, message_ref: str) -> None:
        return None


async def _child_bot(cache_dir: str) -> None:
    import bot.service  # noqa: F401 - every channel module, as `cjgbot run` imports them
    from bot.config import load_settings
    from bot.runtime import build_runtime

    with tempfile.TemporaryDirectory(prefix="cjgspeed-") as tmp:
        settings = load_settings(
            environ={
                "CJGBOT__STORAGE__DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/bench.sqlite3",
                "CJGBOT__STORAGE__KEY_FILE": f"{tmp}/secret.key",
                "CJGBOT__NLU__CACHE_DIR": cache_dir,
            }
        )
        runtime = await build_runtime(settings, _NullRooms())  # type: ignore[arg-type]
        runtime.nlu.parse("mijn peuter slaapt slecht")
        print(READY + json.dumps(rss_of()), flush=True)
        await runtime.close()


# --------------------------------------------------------------------------- main


def measure(repeat: int, train_runs: int) -> dict[str, Any]:
    from nlu.pipeline import Nlu

    texts = dev_texts()
    results: dict[str, Any] = {
        "machine": {
            "cores": os.cpu_count(),
            "python": sys.version.split()[0],
            "date": f"{datetime.now(UTC):%Y-%m-%d}",
            "load_avg_1m": os.getloadavg()[0],
        }
    }
    with tempfile.TemporaryDirectory(prefix="cjgspeed-") as tmp:
        cache = Path(tmp) / "cache"
        times = []
        nlu = None
        for _ in range(train_runs):
            started = time.perf_counter()
            nlu = Nlu.load(cache_dir=cache, retrain=True)
            times.append(time.perf_counter() - started)
        assert nlu is not None
        results["train"] = {
            "examples": nlu.n_examples,
            "runs_s": times,
            "median_s": statistics.median(times),
        }
        results["parse"] = latency_summary(parse_latencies_ms(nlu.parse, texts, repeat))
        results["parse"]["texts"] = len(texts)
        results["startup_nlu"] = child_startup("nlu", cache)
        results["startup_bot"] = child_startup("bot", cache)
        results["startup_nlu_cold"] = child_startup("nlu", Path(tmp) / "empty-cache")
    return results


def verdicts(r: dict[str, Any]) -> list[tuple[str, str, str, bool]]:
    """(what, measured, target, met) rows."""
    return [
        (
            "training (all data)",
            f"{r['train']['median_s']:.2f} s",
            f"< {TARGETS['train_s']:.0f} s",
            r["train"]["median_s"] < TARGETS["train_s"],
        ),
        (
            "parse p99",
            f"{r['parse']['p99_ms']:.2f} ms",
            f"< {TARGETS['parse_p99_ms']:.0f} ms",
            r["parse"]["p99_ms"] < TARGETS["parse_p99_ms"],
        ),
        (
            "RSS whole bot",
            f"{r['startup_bot']['rss_mb']:.0f} MB",
            f"< {TARGETS['bot_rss_mb']:.0f} MB",
            r["startup_bot"]["rss_mb"] < TARGETS["bot_rss_mb"],
        ),
        (
            "start-up to NLU ready",
            f"{r['startup_nlu']['startup_s']:.2f} s",
            f"< {TARGETS['startup_s']:.0f} s",
            r["startup_nlu"]["startup_s"] < TARGETS["startup_s"],
        ),
    ]


def format_results(r: dict[str, Any]) -> str:
    m, t, p = r["machine"], r["train"], r["parse"]
    runs = ", ".join(f"{x:.2f}" for x in t["runs_s"])
    lines = [
        f"machine            {m['cores']} cores, Python {m['python']}, {m['date']}, "
        f"load {m['load_avg_1m']:.2f}",
        f"training           {t['median_s']:.2f} s median ({runs}) on {t['examples']} examples",
        f"parse              p50 {p['p50_ms']:.3f} ms, p99 {p['p99_ms']:.3f} ms, "
        f"mean {p['mean_ms']:.3f} ms, max {p['max_ms']:.2f} ms "
        f"({p['n']} parses of {p['texts']} dev texts)",
        f"start-up NLU       {r['startup_nlu']['startup_s']:.2f} s (process start -> first "
        f"parse, cached model), RSS {r['startup_nlu']['rss_mb']:.0f} MB",
        f"start-up NLU cold  {r['startup_nlu_cold']['startup_s']:.2f} s (no cache: trains), "
        f"peak RSS {r['startup_nlu_cold']['peak_mb']:.0f} MB",
        f"start-up bot       {r['startup_bot']['startup_s']:.2f} s (all channels imported, "
        f"storage migrated, runtime built), RSS {r['startup_bot']['rss_mb']:.0f} MB "
        f"(peak {r['startup_bot']['peak_mb']:.0f} MB)",
        "",
        f"{'target':<24}{'measured':>12}{'target':>10}  met",
    ]
    for what, measured, target, met in verdicts(r):
        lines.append(f"{what:<24}{measured:>12}{target:>10}  {'yes' if met else 'NO'}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20, help="passes over the dev texts")
    parser.add_argument("--train-runs", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", choices=("nlu", "bot"), help=argparse.SUPPRESS)
    parser.add_argument("--cache", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child == "nlu":
        _child_nlu(args.cache)
        return 0
    if args.child == "bot":
        asyncio.run(_child_bot(args.cache))
        return 0
    results = measure(args.repeat, args.train_runs)
    print(json.dumps(results, indent=2) if args.json else format_results(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
