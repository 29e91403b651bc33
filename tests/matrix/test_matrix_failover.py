"""Two `cjgbot run` instances, one Matrix account: one serves it, the other takes over.

Both instances share the database and the E2E store (one volume in production). The one
holding the Matrix lease is killed with SIGKILL in the middle of a parent's intake; the
other must take over the account and finish the conversation: every message answered,
the handover posted in the partner's room and claimable there.
"""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest
import yaml
from cryptography.fernet import Fernet

from bot.config import Settings
from support.databases import new_database_url
from support.service import free_port, health, service_env, start, wait_for

from .conftest import make_world
from .synapse import Synapse

FIRST = "ons kind wordt gepest op school, kan iemand helpen"
REST = ("Veldhoven", "9", "zoon", "ja", "06-48213579, liever gebeld", "Sanne", "ja")


async def holds_matrix(port: int) -> bool:
    status = await health(port)
    return bool(status and status.get("matrix_lease"))


async def test_the_matrix_account_fails_over_when_its_instance_is_killed(
    synapse: Synapse,
    settings: Settings,
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    world = await make_world(synapse, settings, tmp_path)
    try:
        config = tmp_path / "cjg.yml"
        data = world.settings.model_dump(mode="json")
        data["loket"]["roster"] = {}  # the test world has no loket staff to put on duty
        config.write_text(yaml.safe_dump(data))
        url = await new_database_url(tmp_path)
        key = Fernet.generate_key().decode()
        cache = tmp_path_factory.getbasetemp() / "nlu-cache"
        port_a, port_b = free_port(), free_port()
        eva = await world.staff("lumens", "Eva")
        bot = world.bot.user_id

        a = start(service_env(tmp_path, url, port_a, key, cache), tmp_path / "a.log", config)
        b = None
        try:
            await wait_for(lambda: holds_matrix(port_a), within=120)
            b = start(service_env(tmp_path, url, port_b, key, cache), tmp_path / "b.log", config)
            await wait_for(lambda: health(port_b), within=120)
            assert (await health(port_b) or {}).get("matrix_lease") is False

            parent, room = await world.parent(encrypted=True)  # A joins the direct chat
            mark = parent.mark()
            await parent.say(room, FIRST)
            await parent.wait_text(room, "In welke plaats", sender=bot, after=mark, within=60)

            a.send_signal(signal.SIGKILL)  # mid-intake: the answer to the place is pending
            a.wait(timeout=10)
            await wait_for(lambda: holds_matrix(port_b), within=60)

            for text in REST:
                mark = parent.mark()
                await parent.say(room, text)
                await parent.wait_for(room, lambda e: True, sender=bot, after=mark, within=60)
            await parent.wait_text(room, "doorgegeven aan Lumens", sender=bot, within=60)
            post = await eva.wait_text(
                world.room("lumens"), "Nieuwe vraag nr. 1", sender=bot, within=60
            )
            assert "Veldhoven" in post.source["content"]["body"]
            assert post.decrypted  # B posts with the account's device and keys

            await eva.react(world.room("lumens"), post.event_id, "✅", encrypted=True)
            await eva.wait_text(world.room("lumens"), "opgepakt door Eva", sender=bot, within=60)
        finally:
            a.kill()
            if b is not None:
                b.send_signal(signal.SIGTERM)
                assert b.wait(timeout=60) == 0
        # Exactly one handover post: nothing doubled by the takeover.
        posts = [t for t in eva.texts(world.room("lumens"), sender=bot) if "Nieuwe vraag" in t]
        assert len(posts) == 1
        log_b = (tmp_path / "b.log").read_text()
        events = [json.loads(line)["event"] for line in log_b.splitlines() if line.startswith("{")]
        assert "matrix_serving" in events and "Traceback" not in log_b
        for secret in ("48213579", "Sanne", "gepest", parent.user_id):
            assert secret not in log_b
    finally:
        await world.close()
