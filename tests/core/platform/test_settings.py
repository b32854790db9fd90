from __future__ import annotations

from pathlib import Path

import pytest

from spoc import StartupError, create_app
from spoc.core.platform.settings import collect_plugin_sections, load_settings


def test_production_without_secret_key_stops_with_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SPOC_SECRET_KEY", raising=False)
    monkeypatch.delenv("SPOC_ENV", raising=False)
    with pytest.raises(StartupError) as caught:
        load_settings()
    message = str(caught.value)
    assert "\n" not in message
    assert "SPOC_SECRET_KEY is not set" in message


def test_dev_and_demo_run_without_a_secret_key() -> None:
    assert load_settings(env="dev").secret_key is None
    assert load_settings(env="demo").secret_key is None


def test_secret_key_is_never_shown_in_repr() -> None:
    settings = load_settings(env="production", secret_key="s3cr3t-value-for-test")
    assert "s3cr3t" not in repr(settings)


def test_plugins_are_read_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPOC_PLUGINS", "generic, facilities ,")
    assert load_settings(env="dev").plugins == ["generic", "facilities"]


def test_the_deployments_own_teams_are_read_comma_separated(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SPOC_TEAMS", "night_shift, plumbers")
    settings = load_settings(env="dev")
    assert settings.teams == ["night_shift", "plumbers"]
    assert settings.core_teams == {"desk", "specialists", "management", "night_shift", "plumbers"}


def test_a_team_key_that_is_not_one_names_the_setting() -> None:
    with pytest.raises(StartupError, match="SPOC_TEAMS: 'Night Shift' is not a team key"):
        load_settings(env="dev", teams="Night Shift")


def test_unknown_time_zone_names_the_setting() -> None:
    with pytest.raises(StartupError, match="SPOC_TIMEZONE: unknown time zone 'Mars/Olympus'"):
        load_settings(env="dev", timezone="Mars/Olympus")


def test_nested_plugin_sections_from_environment_and_dotenv(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text(
        'SPOC_ENV=dev\nSPOC_HEALTHCARE__RED_FLAGS=["chest pain"]\nSPOC_HEALTHCARE__LANG__FR=oui\n'
    )
    monkeypatch.setenv("SPOC_HEALTHCARE__LANG__EN", "yes")
    settings = load_settings()
    assert settings.env == "dev"
    assert settings.plugin_settings["healthcare"] == {
        "red_flags": ["chest pain"],
        "lang": {"fr": "oui", "en": "yes"},
    }


def test_collect_plugin_sections_ignores_plain_settings() -> None:
    assert collect_plugin_sections({"SPOC_ENV": "dev", "OTHER__X": "1", "SPOC___X": "1"}) == {}


def test_default_database_is_a_sqlite_file_in_the_instance_folder(tmp_path: Path) -> None:
    app = create_app(env="dev", instance_path=tmp_path / "inst")
    spoc = app.extensions["spoc"]
    assert spoc.db.url == f"sqlite:///{tmp_path / 'inst' / 'spoc.sqlite'}"
    assert (tmp_path / "inst").is_dir()


def test_production_cookies_are_secure(tmp_path: Path) -> None:
    app = create_app(
        env="production", secret_key="x" * 40, database_url="sqlite://", instance_path=tmp_path
    )
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.secret_key == "x" * 40
