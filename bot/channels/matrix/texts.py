"""The Matrix channel's own texts (texts.yml beside this file), as a flows `Catalogue`."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

from flows.texts import Catalogue

TEXTS_FILE = Path(__file__).with_name("texts.yml")


@cache
def channel_texts() -> Catalogue:
    data = yaml.safe_load(TEXTS_FILE.read_text(encoding="utf-8"))
    return Catalogue({lang: dict(table) for lang, table in data.items()})
