"""Start-up time of the whole bot: `cjgbot run` until /healthz answers, then SIGTERM.

Each run is a fresh process (imports, configuration, migrations, NLU, channels); prints
every run and the median.

    python bench/startup.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def one_start(workdir: Path) -> tuple[float, float]:
    """Seconds until healthy, and until the process stopped after SIGTERM."""
    port = free_port()
    env = dict(
        os.environ,
        CJGBOT__SERVICE__HTTP_PORT=str(port),
        CJGBOT__STORAGE__DATABASE_URL=f"sqlite+aiosqlite:///{workdir}/bot.sqlite3",
        CJGBOT__STORAGE__KEY_FILE=str(workdir / "secret.key"),
    )
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "run"],
        env=env,
        cwd=ROOT,
        stdin=subprocess.PIPE,  # the console channel waits for input, as in a terminal
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                    break
            except OSError:
                if process.poll() is not None:
                    raise SystemExit("the bot stopped during start-up") from None
                time.sleep(0.01)
        ready = time.perf_counter() - started
        stopping = time.perf_counter()
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        return ready, time.perf_counter() - stopping
    finally:
        process.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="cjgstart-"))
    one_start(workdir)  # first start: creates the database and the key (not counted)
    results = [one_start(workdir) for _ in range(args.runs)]
    print(
        f"machine      {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
        f"{datetime.now(UTC):%Y-%m-%d}"
    )
    for ready, stop in results:
        print(f"run          ready {ready:.2f} s, stopped {stop:.2f} s after SIGTERM")
    print(
        f"start-up     median {statistics.median(r for r, _ in results):.2f} s "
        "(SQLite, console channel, sample configuration)"
    )


if __name__ == "__main__":
    main()
