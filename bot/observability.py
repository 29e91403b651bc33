"""Health and metrics on a local HTTP port: /healthz and /metrics (Prometheus).

Counters are kept in memory by the app; gauges about handovers are read from the database
when Prometheus scrapes, so every instance reports the same truth.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from bot.local_http import Handler, LocalHttp, Response
from storage.repository import Store

log = logging.getLogger("cjgbot.http")


class Metrics:
    """The bot's metrics; no label ever holds personal data (channels, routes, events)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.messages = Counter(
            "cjgbot_messages", "Messages from parents", ["channel"], registry=self.registry
        )
        self.questions = Counter(
            "cjgbot_questions", "Questions registered, by type", ["type"], registry=self.registry
        )
        self.handover_events = Counter(
            "cjgbot_handover_events", "Handover transitions", ["event"], registry=self.registry
        )
        self.turns_redone = Counter(
            "cjgbot_worker_turns_redone",
            "Turns the bot decided again itself: the worker gave none, or the state changed",
            ["reason"],
            registry=self.registry,
        )
        self.errors = Counter(
            "cjgbot_errors", "Errors while handling an event", ["where"], registry=self.registry
        )
        self.handovers = Gauge(
            "cjgbot_handovers", "Handovers by status", ["status"], registry=self.registry
        )
        self.oldest_unclaimed = Gauge(
            "cjgbot_oldest_unclaimed_seconds",
            "Age of the oldest unclaimed handover",
            registry=self.registry,
        )
        self.purge_lag = Gauge(
            "cjgbot_purge_lag_seconds",
            "How long the most overdue deletion has waited",
            registry=self.registry,
        )
        self.nlu_worker_up = Gauge(
            "cjgbot_nlu_worker_up",
            "1 while an NLU worker process reads messages (0: the bot reads them itself)",
            registry=self.registry,
        )
        self.outbox_pending = Gauge(
            "cjgbot_outbox_pending",
            "Room posts, redactions and notices not delivered yet",
            registry=self.registry,
        )

    async def refresh(self, store: Store, now: datetime) -> None:
        async with store.transaction() as repo:
            gauges = await repo.handover_gauges(now)
            pending = await repo.pending_deliveries()
        for status in ("created", "offered", "claimed", "released", "closed"):
            self.handovers.labels(status).set(gauges.get(f"status_{status}", 0.0))
        self.oldest_unclaimed.set(gauges["oldest_unclaimed_seconds"])
        self.purge_lag.set(gauges["purge_lag_seconds"])
        self.outbox_pending.set(pending)


def make_http_app(
    store: Store,
    metrics: Metrics,
    clock: Callable[[], datetime],
    status: Callable[[], dict[str, object]],
) -> dict[str, Handler]:
    """The pages of the local port: /healthz (JSON; 503 while the database is unreachable)
    and /metrics (Prometheus' text format)."""

    async def healthz() -> Response:
        database = await store.ping()
        body = {
            "status": "ok" if database else "failing",
            "database": "ok" if database else "unreachable",
            **status(),
        }
        return Response(200 if database else 503, json.dumps(body).encode(), "application/json")

    async def metrics_page() -> Response:
        try:
            await metrics.refresh(store, clock())
        except Exception:
            metrics.errors.labels("metrics").inc()
        return Response(200, generate_latest(metrics.registry), CONTENT_TYPE_LATEST)

    return {"/healthz": healthz, "/metrics": metrics_page}


async def start_http(routes: dict[str, Handler], host: str, port: int) -> LocalHttp:
    server = LocalHttp(routes)  # no access log: a query string could carry anything
    await server.start(host, port)
    log.info("http_started", extra={"kind": "health"})
    return server
