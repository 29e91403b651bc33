"""Storage: migrations, the key file, encryption and SQLite's settings for deletion."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import inspect

from storage.crypto import ENV_KEY, FieldCipher, KeyError_, load_or_create_key_file
from storage.database import create_engine, migrate, open_database
from storage.repository import Store
from support.databases import new_database_url

TABLES = {
    "conversations",
    "handovers",
    "room_posts",
    "parent_messages",
    "outbox",
    "audit_events",
    "registrations",
    "settings",
    "leases",
    "alembic_version",
}


async def test_migrations_upgrade_and_downgrade(tmp_path: Path) -> None:
    engine = create_engine(await new_database_url(tmp_path))  # SQLite, or PostgreSQL in CI
    await migrate(engine)
    async with engine.connect() as connection:
        names = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
    assert names == TABLES
    await migrate(engine, "base", down=True)
    async with engine.connect() as connection:
        names = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
    assert names == {"alembic_version"}
    await engine.dispose()


async def test_the_migrated_schema_is_the_models_schema(tmp_path: Path) -> None:
    """Alembic finds nothing to add or drop: migrations and models describe one schema."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from storage.models import Base

    engine = create_engine(await new_database_url(tmp_path))
    await migrate(engine)
    async with engine.connect() as connection:
        differences = await connection.run_sync(
            lambda c: compare_metadata(MigrationContext.configure(c), Base.metadata)
        )
    await engine.dispose()
    assert differences == []


async def test_sqlite_runs_with_wal_and_secure_delete(tmp_path: Path) -> None:
    engine = await open_database(f"sqlite+aiosqlite:///{tmp_path / 'p.sqlite3'}")
    async with engine.connect() as connection:
        mode = (await connection.exec_driver_sql("PRAGMA journal_mode")).scalar()
        secure = (await connection.exec_driver_sql("PRAGMA secure_delete")).scalar()
        keys = (await connection.exec_driver_sql("PRAGMA foreign_keys")).scalar()
    assert (mode, secure, keys) == ("wal", 1, 1)
    await engine.dispose()


def test_the_key_file_is_created_once_with_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "secret.key"
    first = load_or_create_key_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_key_file(path) == first
    path.chmod(0o644)
    with pytest.raises(KeyError_, match="chmod 600"):
        load_or_create_key_file(path)


def test_a_key_file_that_cannot_be_read_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(KeyError_, match="cannot be read or created: Is a directory"):
        load_or_create_key_file(tmp_path)  # mode 0700: it passes the mode check


def test_the_environment_key_wins_and_allows_rotation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, new = Fernet.generate_key(), Fernet.generate_key()
    token = FieldCipher([old]).encrypt("Sanne 0612345678")
    monkeypatch.setenv(ENV_KEY, f"{new.decode()},{old.decode()}")
    cipher = FieldCipher.from_environment(tmp_path / "unused.key")
    assert cipher.decrypt(token) == "Sanne 0612345678"
    assert not (tmp_path / "unused.key").exists()
    with pytest.raises(KeyError_):
        FieldCipher([new]).decrypt(token)


def test_encrypted_fields_do_not_contain_the_plain_text() -> None:
    cipher = FieldCipher([Fernet.generate_key()])
    token = cipher.encrypt("0612345678")
    assert b"0612345678" not in token
    chat_id = "5512349876"
    assert cipher.lookup("telegram", chat_id) == cipher.lookup("telegram", chat_id)
    assert cipher.lookup("telegram", chat_id) != cipher.lookup("matrix", chat_id)
    assert chat_id not in cipher.lookup("telegram", chat_id)


def test_fields_written_as_fernet_tokens_by_earlier_versions_still_decrypt() -> None:
    old, new = Fernet.generate_key(), Fernet.generate_key()
    legacy = Fernet(old).encrypt(b"Sanne 0612345678")
    assert FieldCipher([new, old]).decrypt(legacy) == "Sanne 0612345678"
    with pytest.raises(KeyError_):
        FieldCipher([new]).decrypt(legacy)


def test_a_changed_byte_is_detected_not_decrypted() -> None:
    cipher = FieldCipher([Fernet.generate_key()])
    token = bytearray(cipher.encrypt("0612345678"))
    assert len(token) == 1 + 12 + len("0612345678") + 16  # version, nonce, text, tag
    assert cipher.encrypt("0612345678") != bytes(token)  # a fresh nonce every time
    token[-1] ^= 1
    with pytest.raises(KeyError_, match="cannot be decrypted"):
        cipher.decrypt(bytes(token))


def test_a_bad_key_is_a_clear_error() -> None:
    with pytest.raises(KeyError_, match="not a valid Fernet key"):
        FieldCipher([b"too-short"])


def test_the_head_revision_constant_is_alembics_head() -> None:
    """open_database skips Alembic when the database is at HEAD_REVISION: it must be true."""
    from alembic.script import ScriptDirectory

    from storage.database import HEAD_REVISION, alembic_config

    assert ScriptDirectory.from_config(alembic_config()).get_current_head() == HEAD_REVISION


def test_lookup_keys_stay_the_same_across_versions() -> None:
    """Stored conversations are found by this hash: it must never change for a key."""
    cipher = FieldCipher([b"JZ8n3QpNf4rnUu4nWJIpIY0yUq3Qf3c1xYzq9Vd1h7M="])
    assert cipher.lookup("telegram", "123456789") == (
        "54cf952ca2f335c978db5ad58a032c7dcb2abab051c62e742ae5e62999bf060d"
    )


async def test_leases_are_held_renewed_taken_over_and_released(tmp_path: Path) -> None:
    store = Store(await open_database(await new_database_url(tmp_path)),
                  FieldCipher([Fernet.generate_key()]))
    now, ttl = datetime(2026, 11, 25, 12, tzinfo=UTC), timedelta(seconds=30)

    async def take(holder: str, at: datetime) -> bool:
        async with store.transaction() as repo:
            return await repo.acquire_lease("scheduler", holder, at, ttl)

    try:
        assert await take("a", now)  # created
        assert not await take("b", now + timedelta(seconds=10))  # a holds it
        assert await take("a", now + timedelta(seconds=20))  # renewed until +50 s
        assert not await take("b", now + timedelta(seconds=45))
        assert await take("b", now + timedelta(seconds=51))  # a stopped renewing
        assert not await take("a", now + timedelta(seconds=52))
        async with store.transaction() as repo:
            await repo.release_lease("scheduler", "a")  # not a's to release: no effect
        assert not await take("a", now + timedelta(seconds=53))
        async with store.transaction() as repo:
            await repo.release_lease("scheduler", "b")
        assert await take("a", now + timedelta(seconds=54))  # at once, not after the ttl
    finally:
        await store.close()
