"""Building the runtime: the NLU backend from the configuration; a quick start."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bot import cli, runtime
from bot.config import ConfigError, load_settings
from bot.nlu_worker import NluWorker
from bot.runtime import load_nlu
from nlu.pipeline import Nlu
from nlu.rasa_backend import RasaNlu


def test_the_embedded_classifier_is_the_default() -> None:
    nlu = load_nlu(load_settings(environ={}))
    assert type(nlu) is Nlu


def test_a_rasa_server_by_configuration_with_the_embedded_one_as_fallback() -> None:
    settings = load_settings(environ={"CJGBOT__NLU__BACKEND": "rasa",
                                      "CJGBOT__NLU__RASA_URL": "http://127.0.0.1:9"})
    nlu = load_nlu(settings)
    assert isinstance(nlu, RasaNlu)
    assert nlu.parse("mijn zoon wil niet meer leven").route == "crisis"  # the lexicon first
    result = nlu.parse("mijn dochter van 3 slaapt slecht")  # nothing listens on port 9
    assert result.route == "faq" and nlu.fallback_count == 1


def test_rasa_without_an_address_is_a_configuration_error() -> None:
    with pytest.raises(ConfigError, match="nlu.rasa_url"):
        load_nlu(load_settings(environ={"CJGBOT__NLU__BACKEND": "rasa"}))


@pytest.mark.parametrize("worker", ["true", "false"])
def test_the_bot_starts_with_the_collector_paused_and_resumes_it(
    worker: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[str, bool]] = []
    real_build, real_start = runtime.build_runtime, NluWorker.start

    async def build(*args: Any, **kwargs: Any) -> runtime.Runtime:
        seen.append(("building", gc.isenabled()))
        built = await real_build(*args, **kwargs)
        seen.append(("built", gc.isenabled()))
        return built

    async def fork(*args: Any, **kwargs: Any) -> NluWorker:
        seen.append(("forking", gc.isenabled()))  # the worker inherits a running collector
        return await real_start(*args, **kwargs)

    monkeypatch.setattr(runtime, "build_runtime", build)
    monkeypatch.setattr(NluWorker, "start", fork)
    env = {
        "CJGBOT__STORAGE__DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}",
        "CJGBOT__STORAGE__KEY_FILE": str(tmp_path / "secret.key"),
        "CJGBOT__NLU__WORKER_PROCESS": worker,
    }
    result = CliRunner().invoke(cli.main, ["chat", "--no-colour"], input="hallo\n", env=env)
    assert result.exit_code == 0, result.output
    forked = [("forking", True)] if worker == "true" else []
    assert seen == [("building", False), *forked, ("built", True)]
    assert gc.isenabled()


def test_a_failed_start_resumes_the_collector(tmp_path: Path) -> None:
    env = {
        "CJGBOT__STORAGE__DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}",
        "CJGBOT__STORAGE__KEY_FILE": str(tmp_path),  # a directory: no key can be read
    }
    result = CliRunner().invoke(cli.main, ["chat", "--no-colour"], input="hallo\n", env=env)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert gc.isenabled()
