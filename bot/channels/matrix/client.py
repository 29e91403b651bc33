"""Building the matrix-nio client: E2E store on disk, no retries inside nio, quiet logs.

matrix-nio's end-to-end encryption (`matrix-nio[e2e]`, 0.26+) is backed by vodozemac, which
ships binary wheels: nothing to compile and no libolm. The olm account, the megolm sessions
and the known devices live in a SQLite file under `store_path`, so encrypted rooms keep
working after a restart as long as that directory and the device id stay the same.
"""

from __future__ import annotations

import logging
import os

from nio import AsyncClient, AsyncClientConfig

from .settings import MatrixSettings

LIBRARY_LOGGERS = ("nio", "peewee", "aiohttp")


class _Scrub(logging.Filter):
    """Library log lines may quote user ids, room ids or event content: keep only where."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = f"{record.name}.{record.funcName}"
        record.args = ()
        record.exc_info = None
        return True


def quiet_library_logs(level: int = logging.WARNING) -> None:
    """Raise library loggers to `level` and strip their messages of any data."""
    scrub = _Scrub()
    names = [
        name
        for name in list(logging.root.manager.loggerDict)
        if name.split(".", 1)[0] in LIBRARY_LOGGERS
    ]
    for name in [*LIBRARY_LOGGERS, *names]:
        logger = logging.getLogger(name)
        if logger.level < level:
            logger.setLevel(level)
        if not any(isinstance(f, _Scrub) for f in logger.filters):
            logger.addFilter(scrub)


def make_client(config: MatrixSettings) -> AsyncClient:
    store_path = config.store_path
    store_path.mkdir(parents=True, exist_ok=True)
    os.chmod(store_path, 0o700)
    pickle_key = config.pickle_key.get_secret_value() if config.pickle_key else "DEFAULT_KEY"
    client_config = AsyncClientConfig(
        max_limit_exceeded=0,  # a 429 comes back to us: retry.py waits retry_after_ms
        max_timeouts=0,  # a connection error comes back to us: retry.py backs off
        request_timeout=config.request_timeout_s,
        encryption_enabled=True,
        store_sync_tokens=False,  # the sync token lives in the bot's database
        pickle_key=pickle_key,
    )
    client = AsyncClient(
        config.homeserver,
        config.user_id,
        device_id=config.device_id,
        store_path=str(store_path),
        config=client_config,
    )
    quiet_library_logs()
    return client
