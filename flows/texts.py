"""The text catalogue: every sentence a person reads, loaded from YAML data files.

The flows render texts through a `Catalogue`; they never hold sentences in code.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

# libyaml (C) when the wheel has it: the texts and data load several times faster.
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

TEXTS_DIR = Path(__file__).with_name("texts")
LANGUAGES = ("nl", "en")


class _Defaulting(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


@dataclass(frozen=True)
class Catalogue:
    """Texts per language; Dutch is the fallback for a key missing in another language."""

    texts: dict[str, dict[str, Any]]

    @classmethod
    def load(cls, directory: Path | None = None) -> Catalogue:
        directory = directory or TEXTS_DIR
        texts: dict[str, dict[str, Any]] = {}
        for lang in LANGUAGES:
            path = directory / f"{lang}.yml"
            if path.exists():
                texts[lang] = yaml.load(path.read_text(encoding="utf-8"), Loader=YAML_LOADER) or {}
        if "nl" not in texts:
            raise FileNotFoundError(f"text catalogue nl.yml missing in {directory}")
        return cls(texts)

    def raw(self, key: str, lang: str = "nl") -> Any:
        for candidate in (lang, "nl"):
            table = self.texts.get(candidate, {})
            if key in table:
                return table[key]
        raise KeyError(f"text {key!r} not in catalogue")

    def get(self, key: str, lang: str = "nl", **params: Any) -> str:
        """The text for `key`, with placeholders filled; unknown placeholders stay visible."""
        template = str(self.raw(key, lang))
        return template.format_map(_Defaulting(params)).strip()

    def join_names(self, names: list[str], lang: str = "nl") -> str:
        """'A, B en C' (or 'A, B and C')."""
        if not names:
            return ""
        if len(names) == 1:
            return names[0]
        return self.get("organisations_join", lang, first=", ".join(names[:-1]), last=names[-1])
