"""The Matrix channel's own texts: keys `matrix_*` in the shared catalogue (flows/texts)."""

from __future__ import annotations

from functools import cache
from typing import Any

from flows.texts import Catalogue


class ChannelTexts:
    """The catalogue, seen through the `matrix_` prefix of this channel's keys."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue

    def get(self, key: str, lang: str = "nl", **params: Any) -> str:
        return self.catalogue.get(f"matrix_{key}", lang, **params)


@cache
def channel_texts() -> ChannelTexts:
    return ChannelTexts(Catalogue.load())
