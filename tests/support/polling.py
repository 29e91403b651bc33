"""Waiting for something another process or task does, without a signal to wait on."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


async def eventually(check: Callable[[], bool], within: float = 5) -> bool:
    """True as soon as `check()` is; False after `within` seconds."""
    for _ in range(int(within * 20)):
        if check():
            return True
        await asyncio.sleep(0.05)
    return check()
