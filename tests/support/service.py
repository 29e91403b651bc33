"""`cjgbot run` as a subprocess: its environment, its health endpoint, waiting for it."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def service_env(tmp_path: Path, url: str, port: int, key: str, cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CJGBOT")}
    env.update(
        CJGBOT_SECRET_KEY=key,
        CJGBOT_LOG_LEVEL="INFO",
        CJGBOT__STORAGE__DATABASE_URL=url,
        CJGBOT__NLU__CACHE_DIR=str(cache),
        CJGBOT__SERVICE__HTTP_PORT=str(port),
        CJGBOT__SERVICE__LEASE_SECONDS="3",
        CJGBOT__RETENTION__SWEEP_INTERVAL_MINUTES="0.02",
        CJGBOT__RETENTION__SWEEP_BATCH_SIZE="25",  # many small batches: a kill lands mid-sweep
        CJGBOT__CHANNELS__CONSOLE__ENABLED="false",
    )
    return env


def start(
    env: dict[str, str], log: Path, config: Path | None = None
) -> subprocess.Popen[bytes]:
    options = ["--config", str(config)] if config else []
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", *options, "run"], env=env, cwd=ROOT,
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log.open("wb"),
    )


async def health(port: int) -> dict[str, object] | None:
    try:
        async with aiohttp.ClientSession() as http, http.get(
            f"http://127.0.0.1:{port}/healthz", timeout=aiohttp.ClientTimeout(total=2)
        ) as response:
            return await response.json()
    except (aiohttp.ClientError, TimeoutError):
        return None


async def wait_for(check, within: float = 90.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        result = await check()
        if result:
            return result
        await asyncio.sleep(0.2)
    raise AssertionError("condition not reached in time")
