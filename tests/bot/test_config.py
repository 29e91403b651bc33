"""Configuration: the sample runs as is; a wrong value stops the bot with one clear line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot.config import SAMPLE_CONFIG, ConfigError, load_settings
from support.paths import SHARED


def write(tmp_path: Path, mutate) -> Path:
    data = yaml.safe_load(SAMPLE_CONFIG.read_text())
    mutate(data)
    path = tmp_path / "cjg.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return path


def test_the_sample_configuration_is_valid_and_matches_the_domain() -> None:
    settings = load_settings(environ={})
    partners = yaml.safe_load((SHARED / "domain" / "partners.yml").read_text())["partners"]
    assert {p.id for p in settings.partners} == {p["id"] for p in partners}
    for configured in settings.partners:
        [domain] = [p for p in partners if p["id"] == configured.id]
        assert configured.cjg_partner == domain["cjg_partner"]
        assert list(configured.ages) == domain["ages"]
    assert settings.retention.days == 28
    assert settings.loket.weekdays == ["monday", "tuesday", "wednesday", "thursday", "friday"]
    assert str(settings.loket.opens) == "09:00:00" and str(settings.loket.closes) == "12:00:00"
    assert settings.cjg.responsible_organisation


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d["retention"].update(days=29), "retention.days"),
        (lambda d: d["loket"].update(opens="13:00"), "opens must be before closes"),
        (lambda d: d["loket"].update(timezone="Mars/Olympus"), "unknown time zone"),
        (lambda d: d["partners"][0].update(id="kinderopvang"), "unknown partner id"),
        (lambda d: d["cjg"].pop("responsible_organisation"), "cjg.responsible_organisation"),
        (lambda d: d["loket"]["roster"].update(monday="zoe"), "roster.monday"),
        (lambda d: d["loket"]["staff"]["anne"].update(matrix_id="anne"), "matrix_id"),
        (lambda d: d["storage"].update(database_url="mysql://x"), "storage.database_url"),
        (lambda d: d.update(unknown_section={}), "unknown_section"),
    ],
)
def test_a_wrong_value_names_the_key_and_the_problem(tmp_path: Path, mutate, expected: str) -> None:
    path = write(tmp_path, mutate)
    with pytest.raises(ConfigError) as error:
        load_settings(path, environ={})
    message = str(error.value)
    assert expected in message and "\n" not in message


def test_environment_overrides_secrets_and_deployment_values(tmp_path: Path) -> None:
    settings = load_settings(
        environ={
            "CJGBOT__STORAGE__DATABASE_URL": "postgresql+asyncpg://u@127.0.0.1/cjg",
            "CJGBOT__RETENTION__DAYS": "14",
        }
    )
    assert settings.storage.database_url.startswith("postgresql+asyncpg://")
    assert settings.retention.days == 14


def test_the_command_line_reports_a_bad_configuration_in_one_line(tmp_path: Path) -> None:
    path = write(tmp_path, lambda d: d["retention"].update(days=60))
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "--config", str(path), "config", "check"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "retention.days" in result.stderr and "Traceback" not in result.stderr


def test_a_missing_file_and_broken_yaml_are_one_line_too(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.yml", environ={})
    broken = tmp_path / "broken.yml"
    broken.write_text("cjg: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_settings(broken, environ={})
