"""`cjgbot run`: every channel the configuration enables, the timers, health and metrics.

Several instances may share one PostgreSQL database: the timers run in the instance that
holds the scheduler lease, the Matrix account is served by the holder of its lease, and
every instance delivers from the outbox what it can (Telegram notices everywhere, room
messages where Matrix is served). SIGTERM stops taking new messages, lets the ones in hand
finish (their state is stored per message), then closes.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from datetime import timedelta

from bot.app import App
from bot.channels.console import CHANNEL, make_console, run_console
from bot.config import ConfigError, Settings
from bot.delivery import keep_delivering
from bot.instance import MATRIX_LEASE, Lease, instance_id
from bot.nlu_worker import WARM_UP_TEXT
from bot.observability import make_http_app, start_http
from bot.retention import Sweeper
from bot.runtime import build_runtime
from bot.scheduler import start_scheduler

log = logging.getLogger("cjgbot.service")


async def warm_up(app: App, after: float = 1.0) -> None:
    """The classifier builds its scoring tables at first use (70-130 ms): let that happen
    just after start-up (when /healthz already answers), not on the first parent's message.

    With an NLU worker they were built before it was forked (so the two share them).
    """
    if app.nlu_worker is not None:
        return
    await asyncio.sleep(after)
    await asyncio.to_thread(app.staff_context.understand, WARM_UP_TEXT)


async def run_service(settings: Settings) -> None:
    names = {p.id: p.name for p in settings.partners}
    parent, console_rooms = make_console(names, sys.stdout)
    matrix = None
    if settings.channel_enabled("matrix"):  # imported only when used: a faster start
        from bot.channels.matrix import MatrixChannel, matrix_settings

        matrix = MatrixChannel.from_settings(settings) if matrix_settings(settings) else None
    runtime = await build_runtime(settings, matrix.rooms if matrix else console_rooms)
    app = runtime.app
    me = instance_id()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)

    ttl = timedelta(seconds=settings.service.lease_seconds)
    lease = Lease(runtime.store, "scheduler", me, app.clock, ttl=ttl)
    matrix_lease = None
    if matrix is not None:
        name = f"{MATRIX_LEASE}:{matrix.user_id}"[:64]  # the column holds 64
        matrix_lease = Lease(runtime.store, name, me, app.clock, ttl)
    http = None
    if settings.service.http_port:  # first: it tells that this instance is up
        status = lambda: {  # noqa: E731
            "instance": me,
            "scheduler_lease": lease.held,
            "matrix_lease": matrix_lease.held if matrix_lease else None,
            "nlu_worker": None if app.nlu_worker is None else app.nlu_worker.alive,
        }
        host, port = settings.service.http_host, settings.service.http_port
        try:
            http = await start_http(
                make_http_app(runtime.store, app.metrics, app.clock, status), host, port
            )
        except OSError as exc:  # e.g. the port is taken
            await runtime.close()
            raise ConfigError(
                f"service.http_port: cannot listen on {host}:{port}: {exc.strerror}"
            ) from None
    lease.start()
    if matrix_lease is not None:
        matrix_lease.start()
    sweeper = Sweeper(app, settings.retention.audit_days, settings.retention.sweep_batch_size)
    scheduler = start_scheduler(
        app, sweeper, settings.retention.sweep_interval_minutes, may_run=lambda: lease.held
    )
    telegram = None
    if settings.channel_enabled("telegram"):
        from bot.channels.telegram import TelegramChannel, telegram_settings

        telegram_config = telegram_settings(settings)  # ConfigError names the key, not the value
        telegram = TelegramChannel(app, telegram_config) if telegram_config else None
    if telegram is not None:
        await telegram.start()
    tasks = [asyncio.create_task(stop.wait())]
    # Retries, and what other instances left for this one (e.g. room posts of a handover
    # that came in over Telegram on an instance without the Matrix lease).
    delivering = asyncio.create_task(keep_delivering(app.dispatcher))
    if matrix is not None and matrix_lease is not None:
        # If Matrix stops (e.g. a refused login), the service stops: rooms are essential.
        from bot.channels.matrix import serve_matrix_while_leased

        tasks.append(asyncio.create_task(serve_matrix_while_leased(app, matrix, matrix_lease)))
    if settings.channel_enabled(CHANNEL):
        app.add_parent_channel(CHANNEL, parent)
        tasks.append(
            asyncio.create_task(run_console(app, parent, sys.stdin, sys.stdout, sys.stdin.isatty()))
        )
    log.info("service_started", extra={"kind": me})
    warming = asyncio.create_task(warm_up(app))
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        scheduler.shutdown(wait=False)
        if matrix is not None:
            await matrix.stop()
        for task in [*tasks, delivering]:
            task.cancel()
        await asyncio.gather(*tasks, delivering, warming, return_exceptions=True)
        if telegram is not None:
            await telegram.stop()  # answers what was already received
        if not await app.drain(settings.service.shutdown_grace_seconds):
            log.warning("shutdown_with_messages_in_hand")
        await lease.stop()
        if matrix_lease is not None:
            await matrix_lease.stop()
        if http is not None:
            await http.cleanup()
        await runtime.close()
        log.info("service_stopped")
