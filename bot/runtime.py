"""Building the bot from its settings: storage, NLU, texts, flow contexts and the app."""

from __future__ import annotations

import gc
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from bot import holiday_cache
from bot.app import App, utc_now
from bot.config import ConfigError, Settings
from bot.gateways import RoomGateway
from bot.nlu_worker import WARM_UP_TEXT, NluWorker
from bot.roster import Roster
from flows.context import FlowContext
from flows.texts import Catalogue
from nlu.crisis import crisis_match
from nlu.responses import load_faq_answers
from storage.crypto import FieldCipher
from storage.database import open_database
from storage.repository import Store

if TYPE_CHECKING:
    from nlu.pipeline import Nlu

CHANNELS = ("console", "telegram", "matrix")


@dataclass
class Runtime:
    settings: Settings
    store: Store
    nlu: Nlu
    app: App
    nlu_worker: NluWorker | None = None

    async def close(self) -> None:
        if self.nlu_worker is not None:
            await self.nlu_worker.close()
        await self.store.close()


def cache_dir(settings: Settings) -> Path:
    """Where the trained model and the loket's holidays are kept between starts."""
    from nlu.classifier import DEFAULT_CACHE_DIR

    return settings.nlu.cache_dir or DEFAULT_CACHE_DIR


def load_nlu(settings: Settings) -> Nlu:
    from nlu.pipeline import Nlu

    nlu = Nlu.load(cache_dir=cache_dir(settings))
    if settings.nlu.fallback_threshold is not None:
        nlu.fallback_threshold = settings.nlu.fallback_threshold
    if settings.nlu.backend == "rasa":
        from nlu.rasa_backend import RasaNlu

        if not settings.nlu.rasa_url:
            raise ConfigError("nlu.rasa_url: needed with nlu.backend: rasa")
        # The embedded classifier answers whenever the Rasa server cannot.
        return RasaNlu(settings.nlu.rasa_url, fallback=nlu)
    return nlu


def flow_contexts(
    settings: Settings, nlu: Nlu, catalogue: Catalogue | None = None, today: date | None = None
) -> dict[str, FlowContext]:
    catalogue = catalogue or Catalogue.load()
    faq = load_faq_answers()
    partners = settings.partner_map()
    today = today or utc_now().date()
    hours = holiday_cache.office_hours(settings.loket, cache_dir(settings), today)
    return {
        channel: FlowContext(
            catalogue=catalogue,
            partners=partners,
            office_hours=hours,
            understand=nlu.parse,
            faq_answers=faq,
            danger=crisis_match,
            cjg_name=settings.cjg.name,
            responsible=settings.cjg.responsible_organisation,
            retention_days=settings.retention.days,
            reminder_after_working_hours=settings.loket.reminder_after_working_hours,
            channel=channel,
        )
        for channel in CHANNELS
    }


async def open_store(settings: Settings, cipher: FieldCipher | None = None) -> Store:
    cipher = cipher or FieldCipher.from_environment(settings.storage.key_file)
    engine = await open_database(settings.storage.database_url, settings.storage.pool_size)
    return Store(engine, cipher)


def settle_heap() -> None:
    """Keep what was loaded so far out of the garbage collector's passes, for good (it
    lives as long as the process), and let the collector run if start-up had paused it."""
    gc.freeze()
    gc.enable()


class _NoModel:
    """For maintenance commands that never read a parent's message."""

    def parse(self, text: str) -> object:
        raise RuntimeError("this command does not understand messages")


async def build_runtime(
    settings: Settings,
    rooms: RoomGateway,
    clock: Callable[[], datetime] = utc_now,
    nlu: Nlu | None = None,
    load_model: bool = True,
) -> Runtime:
    worker = None
    cipher = FieldCipher.from_environment(settings.storage.key_file)
    own_model = nlu is None and load_model
    if nlu is None:
        nlu = load_nlu(settings) if load_model else _NoModel()  # type: ignore[assignment]
    contexts = flow_contexts(settings, nlu, today=clock().date())
    if own_model and settings.nlu.use_worker_process():
        # Forked now, before the store's threads start. The model is shared with the
        # worker, its scoring tables too (built by a first parse, 70-130 ms), and frozen
        # first so that the garbage collector does not copy their pages. It decides turns
        # with these contexts and the store's cipher.
        nlu.parse(WARM_UP_TEXT)
        settle_heap()
        worker = await NluWorker.start(nlu, contexts, cipher)
    try:
        store = await open_store(settings, cipher)
        app = App(
            store,
            contexts,
            rooms,
            conversation_idle=timedelta(hours=settings.retention.conversation_idle_hours),
            clock=clock,
            roster=Roster(settings.loket),
        )
        app.offload_flows = settings.nlu.backend == "rasa"
        app.nlu_worker = worker
        # What is loaded now lives as long as the process: keep it out of the garbage
        # collector's full passes (the NLU's vocabularies made those pauses long).
        settle_heap()
    except BaseException:
        if worker is not None:
            await worker.close()
        raise
    return Runtime(settings, store, nlu, app, worker)
