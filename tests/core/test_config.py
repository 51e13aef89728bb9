from __future__ import annotations

from pathlib import Path

import pytest

from opsforge.core.config import get_settings, load_settings, reset_settings_cache
from opsforge.core.errors import ConfigError


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for key in list(os.environ):
        if key.startswith("OPSFORGE_"):
            monkeypatch.delenv(key)


def test_defaults_load_from_packaged_yaml() -> None:
    s = load_settings()
    assert s.jobs.backend == "local"
    assert s.api.max_body_bytes == 10 * 1024 * 1024
    assert s.resolved_database_url.startswith("sqlite:///")
    assert s.resolved_database_url.endswith("opsforge.db")


def test_file_then_env_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "site.yaml"
    cfg.write_text(
        "jobs:\n  backend: celery\n  max_attempts: 5\napi:\n  rate_limit_per_minute: 10\n"
    )
    monkeypatch.setenv("OPSFORGE_API__RATE_LIMIT_PER_MINUTE", "20")
    s = load_settings(cfg)
    assert s.jobs.backend == "celery"
    assert s.jobs.max_attempts == 5
    assert s.api.rate_limit_per_minute == 20  # environment wins over the file
    monkeypatch.setenv("OPSFORGE_CONFIG", str(cfg))
    assert load_settings().jobs.backend == "celery"


def test_bad_value_names_the_key(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("jobs:\n  max_attempts: zero\n")
    with pytest.raises(ConfigError, match=r"jobs\.max_attempts"):
        load_settings(cfg)


def test_unknown_key_is_refused(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("jobs:\n  backnd: celery\n")
    with pytest.raises(ConfigError, match=r"jobs\.backnd"):
        load_settings(cfg)


def test_bad_env_value_names_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPSFORGE_JOBS__BACKEND", "kubernetes")
    with pytest.raises(ConfigError, match=r"jobs\.backend"):
        load_settings()


def test_secret_in_file_is_refused(tmp_path: Path) -> None:
    cfg = tmp_path / "leaky.yaml"
    cfg.write_text("auth:\n  jwt_secret: hunter2\n")
    with pytest.raises(ConfigError, match="environment"):
        load_settings(cfg)


def test_secret_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPSFORGE_AUTH__JWT_SECRET", "s3cret-from-env")
    s = load_settings()
    assert s.auth.jwt_secret.get_secret_value() == "s3cret-from-env"
    assert "s3cret" not in repr(s)


def test_invalid_yaml_and_missing_file(tmp_path: Path) -> None:
    cfg = tmp_path / "broken.yaml"
    cfg.write_text("jobs: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_settings(cfg)
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(tmp_path / "absent.yaml")
    cfg.write_text("- a list\n")
    with pytest.raises(ConfigError, match="mapping"):
        load_settings(cfg)


def test_get_settings_is_cached_and_resettable(monkeypatch: pytest.MonkeyPatch) -> None:
    reset_settings_cache()
    first = get_settings()
    assert get_settings() is first
    monkeypatch.setenv("OPSFORGE_LOG_LEVEL", "DEBUG")
    reset_settings_cache()
    assert get_settings().log_level == "DEBUG"
    reset_settings_cache()
