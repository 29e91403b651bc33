"""The deployment files: docker-compose validates, and its bot configuration is valid."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import yaml

from bot.config import load_settings

ROOT = Path(__file__).resolve().parents[2]
TEST_ENV = {
    "POSTGRES_PASSWORD": "x", "SYNAPSE_DB_PASSWORD": "y", "MATRIX_SERVER_NAME": "cjg.test",
    "MATRIX_PUBLIC_URL": "https://matrix.cjg.test/", "SYNAPSE_REGISTRATION_SECRET": "a",
    "SYNAPSE_MACAROON_SECRET": "b", "SYNAPSE_FORM_SECRET": "c", "MATRIX_BOT_PASSWORD": "d",
    "CJGBOT_SECRET_KEY": "e",
}


def compose(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("docker-compose")
    assert binary, "docker-compose is missing: apt-get install docker-compose (see .ci/run)"
    env_file = tmp_path / "test.env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in TEST_ENV.items()))
    return subprocess.run([binary, "--env-file", str(env_file), *args, "config", "-q"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_docker_compose_validates_with_and_without_rasa(tmp_path: Path) -> None:
    for args in ((), ("--profile", "rasa")):
        result = compose(tmp_path, *args)
        assert result.returncode == 0, result.stderr


def test_docker_compose_refuses_to_start_without_secrets(tmp_path: Path) -> None:
    binary = shutil.which("docker-compose")
    assert binary
    empty = tmp_path / "empty.env"
    empty.write_text("")
    result = subprocess.run([binary, "--env-file", str(empty), "config", "-q"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120, env={"PATH": "/usr/bin"})
    assert result.returncode != 0 and "POSTGRES_PASSWORD" in result.stderr


def test_the_deployment_configuration_is_valid_and_has_no_terminal() -> None:
    settings = load_settings(ROOT / "deploy" / "cjg.yml", environ={})
    assert not settings.channel_enabled("console")


def test_synapse_is_configured_for_a_cjg() -> None:
    config = yaml.safe_load((ROOT / "deploy" / "synapse" / "homeserver.yaml").read_text())
    assert config["federation_domain_whitelist"] == []
    assert all("federation" not in r["names"] for listener in config["listeners"]
               for r in listener["resources"])
    assert config["enable_registration"] is False
    assert config["retention"]["enabled"] and config["retention"]["allowed_lifetime_max"] == "28d"
    assert config["redaction_retention_period"] == "1d"
