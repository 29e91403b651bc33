"""The Rasa NLU backend against a fake Rasa server on 127.0.0.1 (no Rasa needed).

The fake answers `POST /model/parse` with Rasa 3-shaped JSON chosen per message text,
counts requests, and can answer errors, garbage or drop a connection.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from nlu import rasa_backend
from nlu.classifier import IntentClassifier
from nlu.pipeline import Nlu
from nlu.rasa_backend import RasaNlu, RasaUnavailable, ranking_from_rasa
from nlu.training_data import parse_nlu_yaml

EMBEDDED_YAML = """\
nlu:
- intent: faq/slapen
  examples: |
    - mijn kind slaapt slecht
    - hoe krijg ik mijn peuter in bed
    - hij wordt elke nacht wakker
- intent: faq/eten
  examples: |
    - mijn kind eet geen groente
    - ze lust niks behalve pasta
    - moet hij zijn bord leeg eten
- intent: out_of_scope
  examples: |
    - hoe vraag ik een paspoort aan
    - wat voor weer wordt het morgen
    - wat kost een parkeervergunning
"""


def intent_ranking(*pairs: tuple[str, float]) -> list[dict[str, Any]]:
    return [{"name": name, "confidence": p} for name, p in pairs]


def parse_result(
    text: str, ranking: list[dict[str, Any]], faq: list[tuple[str, float]] | None = None
) -> dict[str, Any]:
    """A `/model/parse` answer as Rasa 3.6 gives it (DIET + ResponseSelector for faq)."""
    selector_ranking = [
        {"id": -1000 - i, "confidence": p, "intent_response_key": key}
        for i, (key, p) in enumerate(faq or [])
    ]
    top = selector_ranking[0] if selector_ranking else None
    intent = dict(ranking[0]) if ranking else None
    if intent is not None and intent["name"] == "faq" and top is not None:
        intent["full_retrieval_intent_name"] = top["intent_response_key"]
    return {
        "text": text,
        "intent": intent,
        "entities": [],
        "intent_ranking": ranking,
        "response_selector": {
            "all_retrieval_intents": ["faq"],
            "default": {"response": {}, "ranking": []},
            "faq": {
                "response": {
                    "responses": [{"text": "..."}] if top else None,
                    "confidence": top["confidence"] if top else 0.0,
                    "intent_response_key": top["intent_response_key"] if top else None,
                    "utter_action": f"utter_{top['intent_response_key']}" if top else None,
                },
                "ranking": selector_ranking,
            },
        },
    }


@dataclass
class FakeRasa:
    """State shared with the handler: canned answers per text, and what happened."""

    answers: dict[str, dict[str, Any]] = field(default_factory=dict)
    status: int = 200
    garbage: bool = False
    drop_next: int = 0  # close this many connections without an answer
    requests: list[str] = field(default_factory=list)
    url: str = ""


def _handler(state: FakeRasa) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            length = int(self.headers.get("Content-Length", 0))
            body = json.loads(self.rfile.read(length) or b"{}")
            state.requests.append(self.path.split("?")[0])
            if state.drop_next > 0:
                state.drop_next -= 1
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if state.garbage:
                payload = b"<html>not json</html>"
            elif state.status != 200:
                payload = b'{"version": "3.6.20", "status": "failure"}'
            else:
                answer = state.answers.get(body.get("text", ""))
                payload = json.dumps(answer or parse_result("", intent_ranking())).encode()
            self.send_response(state.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            return

    return Handler


@pytest.fixture
def fake_rasa() -> Iterator[FakeRasa]:
    state = FakeRasa()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def embedded() -> Nlu:
    return Nlu(IntentClassifier.train(parse_nlu_yaml(EMBEDDED_YAML)))


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def rasa(fake_rasa: FakeRasa, embedded: Nlu, clock: Clock) -> Iterator[RasaNlu]:
    nlu = RasaNlu(fake_rasa.url, embedded, retry_after=30.0, clock=clock)
    yield nlu
    nlu.close()


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


# --------------------------------------------------------------------------- mapping


def test_partner_intent_maps_to_the_partner_route(fake_rasa: FakeRasa, rasa: RasaNlu) -> None:
    text = "wie helpt mijn zoon met zijn gokverslaving"
    fake_rasa.answers[text] = parse_result(
        text, intent_ranking(("partner_novadic", 0.82), ("faq", 0.1), ("out_of_scope", 0.08))
    )
    result = rasa.parse(text)
    assert (result.route, result.partner, result.topic) == ("partner", "novadic", None)
    assert result.intent == "partner_novadic"
    assert result.confidence == pytest.approx(0.82)
    assert result.language == "nl"
    assert fake_rasa.requests == ["/model/parse"]


def test_retrieval_intent_uses_the_response_selector(fake_rasa: FakeRasa, rasa: RasaNlu) -> None:
    text = "mijn peuter wil niet slapen"
    fake_rasa.answers[text] = parse_result(
        text,
        intent_ranking(("faq", 0.9), ("partner_ggd", 0.1)),
        faq=[("faq/slapen", 0.8), ("faq/eten", 0.2)],
    )
    result = rasa.parse(text)
    assert (result.route, result.topic, result.partner) == ("faq", "slapen", None)
    assert result.intent == "faq/slapen"
    assert result.confidence == pytest.approx(0.72)  # P(faq) * P(slapen | faq)
    assert [name for name, _ in result.ranking] == ["faq/slapen", "faq/eten", "partner_ggd"]


def test_age_settles_zuidzorg_or_ggd_as_in_the_embedded_pipeline(
    fake_rasa: FakeRasa, rasa: RasaNlu
) -> None:
    text = "mijn dochter van 2 heeft een achterstand, wie kan ons helpen"
    fake_rasa.answers[text] = parse_result(
        text, intent_ranking(("partner_ggd", 0.55), ("partner_zuidzorg", 0.4))
    )
    result = rasa.parse(text)
    assert (result.route, result.partner) == ("partner", "zuidzorg")
    assert result.age is not None and result.age.years == 2
    assert result.confidence == pytest.approx(0.95)


def test_rasa_nlu_fallback_is_ignored_and_our_threshold_decides(
    fake_rasa: FakeRasa, rasa: RasaNlu
) -> None:
    text = "tja"
    fake_rasa.answers[text] = parse_result(
        text, intent_ranking(("nlu_fallback", 0.3), ("out_of_scope", 0.2), ("greet", 0.15))
    )
    result = rasa.parse(text)
    assert result.route == "unclear"
    assert result.intent == "out_of_scope"  # the best guess is kept
    assert "nlu_fallback" not in dict(result.ranking)


def test_crisis_probability_from_rasa_routes_to_crisis(fake_rasa: FakeRasa, rasa: RasaNlu) -> None:
    text = "het gaat echt niet meer thuis, ik ben bang"
    fake_rasa.answers[text] = parse_result(
        text, intent_ranking(("partner_lumens", 0.55), ("crisis", 0.4))
    )
    result = rasa.parse(text)
    assert result.route == "crisis"
    assert result.crisis_category is None
    assert result.confidence == pytest.approx(0.4)


def test_crisis_lexicon_comes_first_without_asking_rasa(fake_rasa: FakeRasa, rasa: RasaNlu) -> None:
    text = "mijn dochter wil niet meer leven"
    # Even if Rasa would call it a sleep question, the lexicon decides.
    fake_rasa.answers[text] = parse_result(
        text, intent_ranking(("faq", 0.99)), faq=[("faq/slapen", 1.0)]
    )
    result = rasa.parse(text)
    assert (result.route, result.crisis_category, result.confidence) == ("crisis", "suicide", 1.0)
    assert fake_rasa.requests == []


def test_text_without_words_is_not_sent(fake_rasa: FakeRasa, rasa: RasaNlu) -> None:
    assert rasa.parse("\U0001f44b").route == "greet"
    assert rasa.parse("   ").route == "unclear"
    assert fake_rasa.requests == []


def test_english_message_gets_language_en(fake_rasa: FakeRasa, rasa: RasaNlu) -> None:
    text = "my son of 9 is being bullied at school, what can I do"
    fake_rasa.answers[text] = parse_result(
        text, intent_ranking(("faq", 0.7)), faq=[("faq/pesten", 1.0)]
    )
    result = rasa.parse(text)
    assert (result.route, result.topic, result.language) == ("faq", "pesten", "en")


def test_ranking_from_rasa_rejects_what_is_not_a_parse_result() -> None:
    for payload in ({}, {"intent_ranking": "x"}, {"intent_ranking": [{"confidence": 1}]}):
        with pytest.raises(RasaUnavailable):
            ranking_from_rasa(payload)


def test_ranking_keeps_faq_without_a_selector() -> None:
    assert ranking_from_rasa({"intent": {"name": "faq", "confidence": 0.6}}) == [("faq", 0.6)]
    top = {"name": "faq", "confidence": 0.6, "full_retrieval_intent_name": "faq/rouw"}
    assert ranking_from_rasa({"intent": top, "intent_ranking": [top]}) == [("faq/rouw", 0.6)]


def test_selector_top_10_is_taken_as_it_is() -> None:
    """Rasa lists the 10 best of 33 topics; their mass is not blown up to 1."""
    payload = parse_result(
        "x", intent_ranking(("faq", 0.5), ("out_of_scope", 0.3)), faq=[("faq/rouw", 0.2)]
    )
    assert ranking_from_rasa(payload) == [("out_of_scope", 0.3), ("faq/rouw", pytest.approx(0.1))]


# --------------------------------------------------------------------------- failures


def test_server_down_falls_back_to_the_embedded_classifier(
    embedded: Nlu, caplog: pytest.LogCaptureFixture
) -> None:
    text = "mijn kind eet geen groente"
    nlu = RasaNlu(closed_port_url(), embedded)
    with caplog.at_level(logging.WARNING, logger="nlu.rasa_backend"):
        result = nlu.parse(text)
    assert result == embedded.parse(text)
    assert result.topic == "eten"
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [r.getMessage() for r in warnings] == ["nlu.rasa_unavailable"]
    assert all(text not in str(r.__dict__) for r in caplog.records)
    nlu.close()


def test_after_a_failure_rasa_is_left_alone_then_tried_again(
    fake_rasa: FakeRasa, rasa: RasaNlu, embedded: Nlu, clock: Clock
) -> None:
    text = "mijn kind slaapt slecht"
    fake_rasa.answers[text] = parse_result(
        text, intent_ranking(("faq", 0.9)), faq=[("faq/eten", 1.0)]
    )
    fake_rasa.status = 500
    assert rasa.parse(text) == embedded.parse(text)
    assert rasa.parse(text) == embedded.parse(text)
    assert len(fake_rasa.requests) == 1  # the second message did not wait for Rasa
    assert not rasa.available
    assert rasa.fallback_count == 2

    fake_rasa.status = 200
    clock.now += 31
    result = rasa.parse(text)
    assert result.topic == "eten"  # Rasa's answer again, not the embedded "slapen"
    assert len(fake_rasa.requests) == 2
    assert rasa.available


@pytest.mark.parametrize("with_tenacity", [True, False])
def test_a_dropped_connection_is_retried_once(
    fake_rasa: FakeRasa, rasa: RasaNlu, with_tenacity: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not with_tenacity:
        monkeypatch.setattr(rasa_backend, "tenacity", None)
    text = "hoeveel zakgeld geef je een kind van 10"
    fake_rasa.answers[text] = parse_result(
        text, intent_ranking(("faq", 0.95)), faq=[("faq/zakgeld", 1.0)]
    )
    fake_rasa.drop_next = 1
    result = rasa.parse(text)
    assert (result.route, result.topic) == ("faq", "zakgeld")
    assert len(fake_rasa.requests) == 2


def test_garbage_from_the_server_falls_back(
    fake_rasa: FakeRasa, rasa: RasaNlu, embedded: Nlu
) -> None:
    fake_rasa.garbage = True
    text = "wat kost een parkeervergunning"
    assert rasa.parse(text) == embedded.parse(text)


def test_thresholds_follow_the_embedded_ones_unless_given(embedded: Nlu) -> None:
    nlu = RasaNlu("http://127.0.0.1:1", embedded)
    assert (nlu.fallback_threshold, nlu.crisis_threshold) == (
        embedded.fallback_threshold,
        embedded.crisis_threshold,
    )
    other = RasaNlu("http://127.0.0.1:1", embedded, fallback_threshold=0.5)
    assert other.fallback_threshold == 0.5
    nlu.close()
    other.close()
