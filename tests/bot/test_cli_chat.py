"""`cjgbot chat` as a person would script it: every route, and a kill in the middle."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

CLI = [sys.executable, "-m", "bot.cli", "chat", "--no-colour"]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def nlu_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("nlu-cache")


@pytest.fixture
def env(tmp_path: Path, nlu_cache: Path) -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CJGBOT")}
    environ.update(
        CJGBOT__STORAGE__DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'chat.sqlite3'}",
        CJGBOT__STORAGE__KEY_FILE=str(tmp_path / "secret.key"),
        CJGBOT__NLU__CACHE_DIR=str(nlu_cache),
    )
    return environ


def chat(env: dict[str, str], lines: list[str]) -> str:
    result = subprocess.run(
        CLI,
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    return result.stdout


def test_faq_route(env: dict[str, str]) -> None:
    out = chat(env, ["hoe leer ik mijn peuter zindelijk worden overdag?", "ja"])
    assert "chatbot" in out and "/privacy" in out
    assert "Heeft dit u geholpen?" in out and "Fijn dat ik u kon helpen" in out
    assert "kamer" not in out  # nothing goes to a room


def test_partner_route_to_a_claim(env: dict[str, str]) -> None:
    out = chat(
        env,
        [
            "Mijn dochter van 2 praat nog bijna niet. Kan er iemand van het consultatiebureau "
            "bij ons langskomen?",
            "Veldhoven",
            "ja",
            "06-12345678, liever gebeld",
            "Sanne",
            "ja",
            "/als zuidzorg claim 1",
        ],
    )
    assert "ZuidZorg" in out and "Vindt u dat goed?" in out
    assert "┌── kamer ZuidZorg JGZ 0-4" in out and "+31612345678" in out
    assert "opgepakt door Medewerker zuidzorg" in out


def test_all_partners_route_hides_contact_until_the_claim(env: dict[str, str]) -> None:
    out = chat(
        env,
        [
            "we hebben zoveel problemen thuis met onze zoon van 13, school, vrienden, ruzie, "
            "alles loopt mis en ik weet niet meer waar ik moet beginnen. wie kan ons helpen?",
            "Eindhoven",
            "jongen",
            "ja",
            "ouder.test@voorbeeld.nl",
            "anoniem",
            "ja",
            "/als lumens claim 1",
        ],
    )
    assert "vijf partners" in out
    before_claim, after_claim = out.split("/als lumens claim 1")
    assert "ouder.test@voorbeeld.nl" not in before_claim.split("kamer")[1]
    assert "Contactgegevens bij vraag nr. 1: anoniem, ouder.test@voorbeeld.nl" in after_claim


def test_crisis_route(env: dict[str, str]) -> None:
    out = chat(env, ["mijn zoon van 15 zegt dat hij niet meer wil leven", "nee"])
    first_reply = out.split("bot> ")[1]
    assert "112" in first_reply and "0800-0113" in first_reply
    assert "DRINGEND" in out  # the urgent flag in the loket room


def test_out_of_scope_route(env: dict[str, str]) -> None:
    out = chat(env, ["wanneer wordt het grofvuil opgehaald in mijn straat?"])
    assert "14 040" in out


def test_a_killed_bot_continues_the_intake_after_a_restart(env: dict[str, str]) -> None:
    process = subprocess.Popen(
        CLI,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
        cwd=ROOT,
    )
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write("ons kind wordt gepest op school, kan iemand ons helpen?\nVeldhoven\n")
    process.stdin.flush()
    deadline = time.monotonic() + 120
    seen = ""
    while "Hoe oud is uw kind" not in seen and time.monotonic() < deadline:
        seen += process.stdout.readline()
    assert "Hoe oud is uw kind" in seen
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    out = chat(env, ["9"])
    assert "jongen of een meisje" in out
