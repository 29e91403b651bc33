"""`cjgbot run` as an operator sees it: health, metrics, SIGTERM, two instances."""

from __future__ import annotations

import json
import os
import signal
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from cryptography.fernet import Fernet

from bot.config import Settings
from bot.observability import make_http_app, start_http
from flows.actions import HandoverDetails
from flows.events import ParentText
from storage.crypto import FieldCipher
from storage.database import open_database
from storage.repository import Store
from support.app import Clock, make_app
from support.databases import new_database_url
from support.flows import FakeNlu, at
from support.service import free_port, health, service_env, start, wait_for

ROOT = Path(__file__).resolve().parents[2]


async def test_healthz_and_metrics(settings: Settings, tmp_path: Path) -> None:
    app, _, _ = await make_app(settings, tmp_path, Clock(at("2026-11-27 20:00")), FakeNlu())
    for text in ("ons kind wordt gepest, kan iemand helpen", "Veldhoven", "9", "zoon", "ja",
                 "06-48213579", "Sanne", "ja"):
        await app.handle_parent("console", "chat-9", ParentText(text))
    port = free_port()
    runner = await start_http(
        make_http_app(app.store, app.metrics, app.clock, lambda: {"instance": "test"}),
        "127.0.0.1", port,
    )
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                assert response.status == 200
                assert (await response.json())["database"] == "ok"
            async with http.get(f"http://127.0.0.1:{port}/metrics") as response:
                body = await response.text()
    finally:
        await runner.cleanup()
        await app.store.close()
    assert 'cjgbot_messages_total{channel="console"} 8.0' in body
    assert 'cjgbot_questions_total{type="2"} 1.0' in body
    assert 'cjgbot_handovers{status="offered"} 1.0' in body
    assert "cjgbot_oldest_unclaimed_seconds" in body and "cjgbot_purge_lag_seconds" in body
    assert "cjgbot_outbox_pending 0.0" in body  # everything was delivered
    assert "gepest" not in body and "48213579" not in body


def children_of(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/task/{pid}/children").read_text().split()


async def test_sigterm_stops_gracefully(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    port = free_port()
    url = await new_database_url(tmp_path)
    env = service_env(tmp_path, url, port, Fernet.generate_key().decode(),
                      tmp_path_factory.getbasetemp() / "nlu-cache")
    log = tmp_path / "service.log"
    process = start(env, log)
    try:
        await wait_for(lambda: health(port))
        status = await health(port) or {}
        children = children_of(process.pid)
        if len(os.sched_getaffinity(0)) > 1:  # messages are read in an NLU worker process
            assert status["nlu_worker"] is True and len(children) == 1
        else:
            assert status["nlu_worker"] is None and children == []
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        for child in children:  # the worker went with the bot
            assert not os.path.exists(f"/proc/{child}")  # noqa: ASYNC240
    finally:
        process.kill()
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    events = [line["event"] for line in lines]
    assert "service_started" in events and "service_stopped" in events
    assert "Traceback" not in log.read_text()


async def test_a_taken_port_is_a_clear_error(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = service_env(tmp_path, await new_database_url(tmp_path), port,
                          Fernet.generate_key().decode(),
                          tmp_path_factory.getbasetemp() / "nlu-cache")
        log = tmp_path / "service.log"
        process = start(env, log)
        try:
            assert process.wait(timeout=120) == 2
        finally:
            process.kill()
    text = log.read_text()
    assert f"cjgbot: service.http_port: cannot listen on 127.0.0.1:{port}" in text
    assert "Traceback" not in text


async def test_the_nlu_worker_ends_when_the_bot_is_killed(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("one core: the bot reads messages itself, there is no worker")
    port = free_port()
    env = service_env(tmp_path, await new_database_url(tmp_path), port,
                      Fernet.generate_key().decode(), tmp_path_factory.getbasetemp() / "nlu-cache")
    process = start(env, tmp_path / "service.log")
    try:
        await wait_for(lambda: health(port))
        (worker,) = children_of(process.pid)
        process.kill()  # SIGKILL: no chance to stop the worker
        process.wait(timeout=30)
        await wait_for(lambda: _gone(worker), within=10)
    finally:
        process.kill()


async def _gone(pid: str) -> bool:
    return not os.path.exists(f"/proc/{pid}")  # noqa: ASYNC240


async def seed_due_handovers(url: str, key: str, count: int) -> None:
    store = Store(await open_database(url), FieldCipher([key.encode()]))
    past = datetime.now(UTC) - timedelta(days=30)
    details = HandoverDetails("Een vraag die weg moet.", "Veldhoven", "9 jaar", "jongen",
                              "Sanne, +31648213579", "nl", "maandag")
    for start_at in range(0, count, 500):
        async with store.transaction() as repo:
            for _ in range(start_at, min(count, start_at + 500)):
                created = await repo.create_handover(None, ("lumens",), False, details, past)
                created.state.purge_at = past
                await repo.save_handover(created.state)
    await store.close()


async def purged_numbers(url: str, key: str) -> list[int]:
    store = Store(await open_database(url), FieldCipher([key.encode()]))
    async with store.transaction() as repo:
        events = await repo.audit_events()
    await store.close()
    return [e.handover_number for e in events if e.event == "handover_purged"]


async def test_two_instances_share_the_work_and_survive_a_kill(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    key = Fernet.generate_key().decode()
    url = await new_database_url(tmp_path)
    count = 3000
    await seed_due_handovers(url, key, count)
    cache = tmp_path_factory.getbasetemp() / "nlu-cache"
    port_a, port_b = free_port(), free_port()
    a = start(service_env(tmp_path, url, port_a, key, cache), tmp_path / "a.log")
    try:
        await wait_for(lambda: _holds(port_a))
        b = start(service_env(tmp_path, url, port_b, key, cache), tmp_path / "b.log")
        try:
            await wait_for(lambda: health(port_b))
            assert (await health(port_b) or {}).get("scheduler_lease") is False
            # Kill A in the middle of its sweep: some handovers purged, not all.
            await wait_for(lambda: _some_purged(url, key), within=120)
            a.send_signal(signal.SIGKILL)
            a.wait(timeout=10)
            await wait_for(lambda: _holds(port_b), within=60)
            await wait_for(lambda: _all_purged(url, key, count), within=240)
        finally:
            b.send_signal(signal.SIGTERM)
            b.wait(timeout=30)
    finally:
        a.kill()
    numbers = await purged_numbers(url, key)
    assert sorted(numbers) == list(range(1, count + 1))  # each exactly once


async def _holds(port: int) -> bool:
    status = await health(port)
    return bool(status and status.get("scheduler_lease"))


async def _some_purged(url: str, key: str) -> bool:
    return len(await purged_numbers(url, key)) > 0


async def _all_purged(url: str, key: str, count: int) -> bool:
    return len(await purged_numbers(url, key)) >= count
