"""Loading the NLU training data (Rasa 3 YAML) into plain `Example`s, plus a content hash.

Only the `nlu:` section is read: each item with an `intent` and an `examples` block of
"- " lines. Other items (synonym, regex, lookup) and other top-level keys (responses, ...)
are ignored. Rasa entity annotations such as `[Veldhoven](place)` or
`[twee]{"entity": "age"}` are reduced to their plain text.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml

# libyaml (C) when the wheel has it: the texts and data load several times faster.
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

DEFAULT_DATA_DIR = Path(__file__).resolve().parent / "data" / "nlu"

# Bump when the way examples are read or features are built changes, so cached
# models trained by older code are not reused.
FORMAT_VERSION = "1"

_ANNOTATION = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled training sentence."""

    text: str
    intent: str


class TrainingDataError(ValueError):
    """A training data file that cannot be read as Rasa 3 NLU YAML."""


def strip_annotations(text: str) -> str:
    """`"ik woon in [Veldhoven](place)"` -> `"ik woon in Veldhoven"`."""
    return _ANNOTATION.sub(r"\1", text)


def _example_lines(block: object) -> Iterable[str]:
    if isinstance(block, str):
        for line in block.splitlines():
            stripped = line.strip()
            if stripped.startswith("- "):
                yield stripped[2:]
            elif stripped == "-":
                continue
    elif isinstance(block, list):  # lenient: a YAML list instead of a block string
        for item in block:
            if isinstance(item, str):
                yield item
            elif isinstance(item, dict) and isinstance(item.get("text"), str):
                yield item["text"]


def parse_nlu_yaml(source: str, name: str = "<string>") -> list[Example]:
    """Parse the text of one Rasa 3 NLU YAML file into examples."""
    try:
        doc = yaml.load(source, Loader=YAML_LOADER)
    except yaml.YAMLError as exc:
        raise TrainingDataError(f"{name}: not valid YAML: {exc}") from exc
    if not doc:
        return []
    if not isinstance(doc, dict):
        raise TrainingDataError(f"{name}: top level must be a mapping")
    items = doc.get("nlu") or []
    if not isinstance(items, list):
        raise TrainingDataError(f"{name}: 'nlu' must be a list")
    examples: list[Example] = []
    for item in items:
        if not isinstance(item, dict) or "intent" not in item:
            continue
        intent = str(item["intent"]).strip()
        if not intent:
            raise TrainingDataError(f"{name}: an item has an empty intent")
        for line in _example_lines(item.get("examples")):
            text = " ".join(strip_annotations(line).split())
            if text:
                examples.append(Example(text=text, intent=intent))
    return examples


def data_files(data_dir: Path | str | None = None) -> list[Path]:
    """The `*.yml` files under the data dir (recursively), in a stable order."""
    root = Path(data_dir) if data_dir is not None else DEFAULT_DATA_DIR
    if not root.is_dir():
        return []
    return sorted(p for p in root.rglob("*.yml") if p.is_file())


def load_examples(data_dir: Path | str | None = None) -> list[Example]:
    """All examples from all files; exact duplicates (same text and intent) are kept once."""
    seen: set[tuple[str, str]] = set()
    out: list[Example] = []
    for path in data_files(data_dir):
        for ex in parse_nlu_yaml(path.read_text(encoding="utf-8"), name=str(path)):
            key = (ex.text, ex.intent)
            if key not in seen:
                seen.add(key)
                out.append(ex)
    return out


def data_hash(data_dir: Path | str | None = None) -> str:
    """A short content hash over all data files (names relative to the dir, and bytes)."""
    root = Path(data_dir) if data_dir is not None else DEFAULT_DATA_DIR
    digest = hashlib.sha256(f"format={FORMAT_VERSION}\n".encode())
    for path in data_files(root):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def examples_hash(examples: Iterable[Example]) -> str:
    """A content hash over examples already in memory (for models trained from a list)."""
    digest = hashlib.sha256(f"format={FORMAT_VERSION}\n".encode())
    for ex in examples:
        digest.update(ex.intent.encode())
        digest.update(b"\0")
        digest.update(ex.text.encode())
        digest.update(b"\n")
    return digest.hexdigest()[:16]


ROUTES = ("faq", "partner", "all_partners", "crisis", "out_of_scope", "greet", "unclear")


@dataclass(frozen=True, slots=True)
class IntentLabel:
    """What an intent name means for routing."""

    route: str
    topic: str | None = None
    partner: str | None = None


def label_of_intent(intent: str) -> IntentLabel:
    """Map an intent name to its route: `faq/slapen` -> faq + topic, `partner_ggd` -> partner.

    Intents the router does not know (e.g. `affirm`) map to route "unclear".
    """
    if intent.startswith("faq/"):
        return IntentLabel("faq", topic=intent[4:] or None)
    if intent == "faq":
        return IntentLabel("faq")
    if intent.startswith("partner_"):
        return IntentLabel("partner", partner=intent[len("partner_") :] or None)
    if intent in ("all_partners", "crisis", "out_of_scope", "greet"):
        return IntentLabel(intent)
    return IntentLabel("unclear")
