"""The embedded NLU and Rasa Open Source 3.6 side by side, trained on the same data.

Both are trained from nlu/data/nlu/*.yml in one run and measured on
../shared/eval/dev.jsonl through the same routing rules (`Nlu.decide`: crisis lexicon
first, thresholds, age correction):

* embedded: `Nlu.load(retrain=True)` into a temporary cache;
* Rasa: `rasa train nlu` with nlu/rasa/config.yml in the separate Rasa venv
  (scripts/rasa-venv.sh) into a temporary dir, then `rasa run --enable-api` on a free
  127.0.0.1 port, asked through `nlu.rasa_backend.RasaNlu`.

Printed for both: route accuracy (overall and per route), topic/partner accuracy,
crisis recall/precision, harmful error rate, training time, parse latency p50/p99
(warm, over the dev set), resident memory and start-up time.

    python bench/nlu_compare.py [--rasa-venv /work/rasa-venv] [--rasa-epochs N] [--json]

`--rasa-epochs N` trains Rasa with N epochs instead of the config's (a copy of the
config is changed, never the file): DIET and the ResponseSelector take tens of seconds
per epoch on a 2-core machine. Rasa is never needed by the bot, its tests or CI.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from nlu_speed import (  # noqa: E402
    DEV_SET,
    REPO,
    child_startup,
    latency_summary,
    parse_latencies_ms,
    tree_rss_mb,
)

from nlu.evaluate import EvalReport, evaluate, load_rows  # noqa: E402
from nlu.pipeline import Nlu  # noqa: E402
from nlu.rasa_backend import RasaNlu  # noqa: E402

RASA_CONFIG = REPO / "nlu" / "rasa" / "config.yml"
DATA_DIR = REPO / "nlu" / "data" / "nlu"
DEFAULT_RASA_VENV = Path(os.environ.get("RASA_VENV", "/work/rasa-venv"))
ROUTES = ("faq", "partner", "all_partners", "crisis", "out_of_scope", "greet")
SERVER_READY_TIMEOUT = 900.0
TRAIN_TIMEOUT = 4 * 3600.0
RASA_ENV = {
    "RASA_TELEMETRY_ENABLED": "false",
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "PYTHONWARNINGS": "ignore",
}
# Rasa's component log lines; tqdm's progress bar may stand before them on one line.
_COMPONENT_LINE = re.compile(
    r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) +INFO +rasa\.engine\.training\.hooks +- +"
    r"(?:Starting to train|Finished training) component"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rasa_config(tmp: Path, epochs: int | None) -> Path:
    """nlu/rasa/config.yml, or a copy of it with every `epochs` set to `epochs`."""
    if epochs is None:
        return RASA_CONFIG
    config = yaml.safe_load(RASA_CONFIG.read_text(encoding="utf-8"))
    for component in config.get("pipeline", []):
        if "epochs" in component:
            component["epochs"] = epochs
    out = tmp / "config.yml"
    out.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return out


def _component_seconds(log_text: str) -> float | None:
    """Seconds from Rasa's first "Starting to train component" to its last "Finished"."""
    stamps = [
        datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S")
        for m in _COMPONENT_LINE.finditer(log_text)
    ]
    return (stamps[-1] - stamps[0]).total_seconds() if len(stamps) > 1 else None


def train_rasa(venv: Path, config: Path, out: Path) -> dict[str, Any]:
    """`rasa train nlu` on the bot's data; raises with the log's tail when it fails."""
    log_path = out / "rasa-train.log"
    cmd = [
        str(venv / "bin" / "rasa"),
        "train",
        "nlu",
        "--config",
        str(config),
        "--nlu",
        str(DATA_DIR),
        "--out",
        str(out),
        "--fixed-model-name",
        "nlu",
    ]
    started = time.perf_counter()
    with log_path.open("w", encoding="utf-8") as log:
        result = subprocess.run(
            cmd,
            cwd=out,
            env={**os.environ, **RASA_ENV},
            stdout=log,
            stderr=subprocess.STDOUT,
            timeout=TRAIN_TIMEOUT,
            check=False,
        )
    elapsed = time.perf_counter() - started
    text = log_path.read_text(encoding="utf-8", errors="replace")
    model = out / "nlu.tar.gz"
    if result.returncode != 0 or not model.is_file():
        tail = "\n".join(text.splitlines()[-30:])
        raise RuntimeError(f"rasa train nlu failed ({result.returncode}):\n{tail}")
    return {
        "train_s": elapsed,
        "components_s": _component_seconds(text),
        "model": model,
        "model_mb": model.stat().st_size / 2**20,
        "warnings_no_response": text.count("You either need to add a response phrase"),
    }


class RasaServer:
    """`rasa run --enable-api` on 127.0.0.1 in its own process group."""

    def __init__(self, venv: Path, model: Path, log_path: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = [
            str(venv / "bin" / "rasa"),
            "run",
            "--enable-api",
            "--model",
            str(model),
            "--interface",
            "127.0.0.1",
            "--port",
            str(self.port),
        ]
        self._log = log_path.open("w", encoding="utf-8")
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            cmd,
            cwd=log_path.parent,
            env={**os.environ, **RASA_ENV},
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self) -> float:
        """Seconds from the process start until /model/parse answers with an intent."""
        deadline = self.started + SERVER_READY_TIMEOUT
        with httpx.Client(timeout=5.0) as client:
            while time.perf_counter() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"rasa run exited with {self.proc.returncode}")
                try:
                    r = client.post(f"{self.url}/model/parse", json={"text": "hallo"})
                    if r.status_code == 200 and r.json().get("intent"):
                        return time.perf_counter() - self.started
                except httpx.HTTPError:
                    pass
                time.sleep(0.25)
        raise RuntimeError("rasa run was not ready in time")

    def rss_mb(self) -> float:
        return tree_rss_mb(self.proc.pid)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._log.close()


def quality(nlu: Nlu, rows: list[Any]) -> dict[str, Any]:
    """The evaluation at the backend's thresholds, and route accuracy without fallback."""
    report: EvalReport = evaluate(nlu, rows)
    saved = nlu.fallback_threshold
    nlu.fallback_threshold = 0.0
    try:
        no_fallback = evaluate(nlu, rows).route_accuracy
    finally:
        nlu.fallback_threshold = saved
    return {
        "route_accuracy": report.route_accuracy,
        "route_accuracy_no_fallback": no_fallback,
        "per_route_recall": {r: report.per_route.get(r, {}).get("recall") for r in ROUTES},
        "topic_accuracy": report.topic_accuracy,
        "partner_accuracy": report.partner_accuracy,
        "crisis_recall": report.crisis_recall,
        "crisis_precision": report.crisis_precision,
        "harmful_error_rate": report.harmful_error_rate,
        "harmful_errors": report.harmful_errors,
        "unclear_rate": report.unclear_rate,
        "fallback_threshold": report.fallback_threshold,
    }


def run(venv: Path, epochs: int | None, repeat: int) -> dict[str, Any]:
    rows = load_rows(DEV_SET)
    texts = [row.text for row in rows]
    results: dict[str, Any] = {
        "dev_rows": len(rows),
        "cores": os.cpu_count(),
        "load_avg_1m_start": os.getloadavg()[0],
    }
    with tempfile.TemporaryDirectory(prefix="cjgcompare-") as tmp_name:
        tmp = Path(tmp_name)
        cache = tmp / "cache"

        started = time.perf_counter()
        embedded = Nlu.load(cache_dir=cache, retrain=True)
        emb: dict[str, Any] = {"train_s": time.perf_counter() - started}
        emb["examples"] = embedded.n_examples
        emb.update(quality(embedded, rows))
        emb["latency"] = latency_summary(parse_latencies_ms(embedded.parse, texts, repeat))
        nlu_child = child_startup("nlu", cache)
        bot_child = child_startup("bot", cache)
        emb["startup_s"] = nlu_child["startup_s"]
        emb["rss_mb"] = nlu_child["rss_mb"]
        emb["bot_startup_s"] = bot_child["startup_s"]
        emb["bot_rss_mb"] = bot_child["rss_mb"]
        results["embedded"] = emb

        config = rasa_config(tmp, epochs)
        epochs_used = [
            c.get("epochs")
            for c in yaml.safe_load(config.read_text(encoding="utf-8"))["pipeline"]
            if "epochs" in c
        ]
        rasa_dir = tmp / "rasa"
        rasa_dir.mkdir()
        trained = train_rasa(venv, config, rasa_dir)
        ras: dict[str, Any] = {
            "epochs": epochs_used,
            "train_s": trained["train_s"],
            "components_s": trained["components_s"],
            "model_mb": trained["model_mb"],
            "warnings_no_response": trained["warnings_no_response"],
        }
        server = RasaServer(venv, trained["model"], rasa_dir / "rasa-run.log")
        try:
            ras["startup_s"] = server.wait_ready()
            ras["rss_mb_ready"] = server.rss_mb()
            rasa = RasaNlu(server.url, embedded, timeout=30.0)
            ras.update(quality(rasa, rows))
            ras["latency"] = latency_summary(parse_latencies_ms(rasa.parse, texts, repeat))
            ras["rss_mb"] = server.rss_mb()
            ras["fallbacks"] = rasa.fallback_count
            rasa.close()
        finally:
            server.stop()
        results["rasa"] = ras
    results["load_avg_1m_end"] = os.getloadavg()[0]
    return results


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def format_results(r: dict[str, Any]) -> str:
    e, a = r["embedded"], r["rasa"]
    rows: list[tuple[str, str, str]] = [
        ("route accuracy", _pct(e["route_accuracy"]), _pct(a["route_accuracy"])),
    ]
    for route in ROUTES:
        rows.append(
            (
                f"  {route} (recall)",
                _pct(e["per_route_recall"][route]),
                _pct(a["per_route_recall"][route]),
            )
        )
    rows += [
        (
            "route accuracy, no fallback",
            _pct(e["route_accuracy_no_fallback"]),
            _pct(a["route_accuracy_no_fallback"]),
        ),
        ("asked to clarify (unclear)", _pct(e["unclear_rate"]), _pct(a["unclear_rate"])),
        ("topic accuracy", _pct(e["topic_accuracy"]), _pct(a["topic_accuracy"])),
        ("partner accuracy", _pct(e["partner_accuracy"]), _pct(a["partner_accuracy"])),
        ("crisis recall", _pct(e["crisis_recall"]), _pct(a["crisis_recall"])),
        ("crisis precision", _pct(e["crisis_precision"]), _pct(a["crisis_precision"])),
        (
            "harmful error rate",
            f"{_pct(e['harmful_error_rate'])} ({e['harmful_errors']})",
            f"{_pct(a['harmful_error_rate'])} ({a['harmful_errors']})",
        ),
        (
            "training time",
            f"{e['train_s']:.1f} s",
            f"{a['train_s']:.0f} s (components {a['components_s'] or 0:.0f} s)",
        ),
        (
            "parse p50 / p99",
            f"{e['latency']['p50_ms']:.2f} / {e['latency']['p99_ms']:.2f} ms",
            f"{a['latency']['p50_ms']:.1f} / {a['latency']['p99_ms']:.1f} ms",
        ),
        (
            "resident memory",
            f"{e['rss_mb']:.0f} MB NLU process, {e['bot_rss_mb']:.0f} MB whole bot",
            f"{a['rss_mb']:.0f} MB rasa server",
        ),
        (
            "start-up (to first parse)",
            f"{e['startup_s']:.2f} s NLU, {e['bot_startup_s']:.2f} s whole bot",
            f"{a['startup_s']:.1f} s rasa run",
        ),
        ("model size", "-", f"{a['model_mb']:.0f} MB"),
    ]
    w0 = max(len(x[0]) for x in rows)
    w1 = max(len(x[1]) for x in rows + [("", "embedded", "")])
    lines = [
        f"NLU comparison on {r['dev_rows']} dev messages ({r['cores']} cores, load "
        f"{r['load_avg_1m_start']:.1f} -> {r['load_avg_1m_end']:.1f}); Rasa epochs "
        f"{a['epochs']}, {a['fallbacks']} Rasa fallbacks to embedded; thresholds "
        f"fallback {e['fallback_threshold']}, same rules for both",
        "",
        f"{'metric':<{w0}}  {'embedded':<{w1}}  rasa 3.6",
        f"{'-' * w0}  {'-' * w1}  {'-' * 8}",
    ]
    lines += [f"{m:<{w0}}  {x:<{w1}}  {y}" for m, x, y in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rasa-venv", type=Path, default=DEFAULT_RASA_VENV)
    parser.add_argument("--rasa-epochs", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=3, help="timed passes over the dev set")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if not (args.rasa_venv / "bin" / "rasa").is_file():
        parser.error(f"no rasa in {args.rasa_venv}: run scripts/rasa-venv.sh first")
    results = run(args.rasa_venv, args.rasa_epochs, args.repeat)
    if args.json:
        print(json.dumps(results, indent=2, default=str))
    else:
        print(format_results(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
