"""Fixtures: a simulated quarter in a temporary SQLite database, with its Fernet key."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from flows.actions import Registration
from storage.crypto import FieldCipher
from storage.database import open_database
from storage.repository import Store

from .quarter import QUARTER, simulate_quarter


@dataclass(frozen=True)
class QuarterDb:
    url: str
    key: bytes
    registrations: list[Registration]  # only those inside QUARTER


async def fill(url: str, key: bytes, registrations: list[Registration]) -> None:
    store = Store(await open_database(url), FieldCipher([key]))
    try:
        async with store.transaction() as repo:
            for registration in registrations:
                await repo.register(registration)
    finally:
        await store.close()


@pytest.fixture(scope="session")
def quarter_db(tmp_path_factory: pytest.TempPathFactory) -> QuarterDb:
    path: Path = tmp_path_factory.mktemp("stats") / "quarter.sqlite3"
    url = f"sqlite+aiosqlite:///{path}"
    key = Fernet.generate_key()
    inside = simulate_quarter()
    # the month before and after: must not be counted
    outside = simulate_quarter(seed=8, months=("2025-12", "2026-04"), per_month=(40, 30))
    asyncio.run(fill(url, key, inside + outside))
    return QuarterDb(url, key, inside)


@pytest.fixture(scope="session")
def quarter_months() -> tuple[str, ...]:
    return QUARTER
