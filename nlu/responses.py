"""The FAQ answers, kept as Rasa 3 `responses` next to the training data.

`utter_faq/<topic>` has a Dutch default variation and an English one conditioned on the
slot `language` = en.
"""

from __future__ import annotations

from pathlib import Path

import yaml

# libyaml (C) when the wheel has it: the texts and data load several times faster.
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

RESPONSES_DIR = Path(__file__).with_name("data") / "responses"


def load_faq_answers(directory: Path | None = None) -> dict[tuple[str, str], str]:
    """{(topic, language): answer} for every utter_faq/<topic> response."""
    answers: dict[tuple[str, str], str] = {}
    for path in sorted((directory or RESPONSES_DIR).glob("*.yml")):
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=YAML_LOADER) or {}
        for name, variations in (data.get("responses") or {}).items():
            if not name.startswith("utter_faq/"):
                continue
            topic = name.removeprefix("utter_faq/")
            for variation in variations:
                language = "nl"
                for condition in variation.get("condition") or []:
                    if condition.get("name") == "language":
                        language = str(condition.get("value"))
                answers[(topic, language)] = str(variation["text"]).strip()
    return answers
