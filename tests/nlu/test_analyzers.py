"""The bot's own analyzers give exactly scikit-learn's n-grams (so it can run without it)."""

from __future__ import annotations

import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from nlu.analyzers import build_analyzer
from nlu.classifier import _VECTORIZERS, prepare_text
from nlu.training_data import load_examples

ODD = [
    "",
    "   ",
    "a",
    "ab",
    "x y z",
    "Ünïcödé ÄÖ 😀 emoji!!",
    "tab\there\n\nnew  lines",
    "it's o'clock",
    "06-12345678 mail@voorbeeld.nl",
    "ÇA VA? Straße",
]


@pytest.mark.parametrize(("name", "settings"), _VECTORIZERS)
def test_analyzers_equal_scikit_learn_on_all_training_texts(
    name: str, settings: dict[str, object]
) -> None:
    ours = build_analyzer(settings)
    theirs = TfidfVectorizer(**settings).build_analyzer()  # type: ignore[arg-type]
    texts = [prepare_text(e.text) for e in load_examples()] + ODD + [t.upper() for t in ODD]
    for text in texts:
        assert ours(text) == theirs(text), text


def test_the_running_bot_does_not_import_scikit_learn(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Training needs scikit-learn; a bot that loads its trained model does not."""
    import subprocess
    import sys

    code = (
        "import sys; from nlu.pipeline import Nlu; Nlu.load(cache_dir=sys.argv[1])"
        ".parse('hoi, mijn zoon slaapt slecht'); print('sklearn' in sys.modules)"
    )
    runs = [
        subprocess.run(
            [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=300
        )
        for _ in range(2)  # the first run trains and caches the model, the second loads it
    ]
    assert runs[1].stdout.strip().splitlines()[-1] == "False", runs[1].stderr[-500:]
