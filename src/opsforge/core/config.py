"""Settings: ``config/default.yaml`` + an optional YAML file + ``OPSFORGE_*`` environment.

Precedence (highest first): environment (``OPSFORGE_DATABASE_URL``,
``OPSFORGE_API__RATE_LIMIT_PER_MINUTE`` with ``__`` between section and key), the file named
by ``OPSFORGE_CONFIG``, then ``config/default.yaml`` shipped with the package.

Secrets (``auth.jwt_secret``) come only from the environment: a secret found in a YAML file is
refused. A bad value fails at load with :class:`ConfigError` naming the dotted key.

Nothing here is module-level state: call :func:`get_settings` (cached) and override it in tests
with :func:`reset_settings_cache`.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from opsforge.core.errors import ConfigError

__all__ = [
    "ApiSettings",
    "AuthSettings",
    "JobsSettings",
    "Settings",
    "TracingSettings",
    "get_settings",
    "load_settings",
    "reset_settings_cache",
]

DEFAULT_CONFIG_PATH = Path(__file__).resolve().parent.parent / "config" / "default.yaml"
SECRET_KEYS = frozenset({("auth", "jwt_secret"), ("artifacts", "s3_secret_access_key")})


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AuthSettings(_Section):
    jwt_secret: SecretStr = SecretStr("")
    jwt_algorithm: Literal["HS256", "HS384", "HS512"] = "HS256"
    jwt_ttl_s: int = Field(3600, gt=0)
    password_min_length: int = Field(10, ge=8)


class ApiSettings(_Section):
    cors_allow_origins: list[str] = Field(default_factory=list)
    max_body_bytes: int = Field(10 * 1024 * 1024, gt=0)
    max_upload_bytes: int = Field(2 * 1024 * 1024 * 1024, gt=0)
    rate_limit_per_minute: int = Field(600, gt=0)
    rate_limit_burst: int = Field(100, gt=0)
    page_size_max: int = Field(500, gt=0)


class JobsSettings(_Section):
    backend: Literal["inline", "local", "celery"] = "local"
    local_workers: int = Field(2, ge=1)
    heartbeat_interval_s: float = Field(5.0, gt=0)
    heartbeat_timeout_s: float = Field(30.0, gt=0)
    max_attempts: int = Field(3, ge=1)
    #: A run queued this long without change is dispatched again (its message may be lost). [s]
    requeue_after_s: float = Field(300.0, gt=0)


class ArtifactSettings(_Section):
    backend: Literal["local", "s3"] = "local"
    s3_bucket: str = ""
    s3_endpoint_url: str = ""
    s3_prefix: str = "opsforge/"
    s3_access_key_id: str = ""
    s3_secret_access_key: SecretStr = SecretStr("")


class TracingSettings(_Section):
    enabled: bool = False
    otlp_endpoint: str = "http://127.0.0.1:4318/v1/traces"
    service_name: str = "opsforge"


class Settings(BaseSettings):
    """All settings of an opsforge process."""

    model_config = SettingsConfigDict(
        env_prefix="OPSFORGE_", env_nested_delimiter="__", extra="forbid"
    )

    environment: Literal["dev", "test", "prod"] = "dev"
    data_dir: Path = Path("var")
    database_url: str = ""
    broker_url: str = ""
    redis_url: str = ""
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_json: bool | None = None
    auth: AuthSettings = Field(default_factory=AuthSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    jobs: JobsSettings = Field(default_factory=JobsSettings)
    artifacts: ArtifactSettings = Field(default_factory=ArtifactSettings)
    tracing: TracingSettings = Field(default_factory=TracingSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # init kwargs (the merged YAML) rank below the environment.
        return (env_settings, init_settings)

    @property
    def resolved_database_url(self) -> str:
        """``database_url`` or a SQLite file under ``data_dir``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'opsforge.db').resolve()}"

    @property
    def artifact_dir(self) -> Path:
        """Local artifact folder. [path]"""
        return self.data_dir / "artifacts"


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}", file=str(path)) from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {path} is not valid YAML: {exc}", file=str(path)) from exc
    if not isinstance(loaded, dict):
        raise ConfigError(
            f"config file {path} must hold a mapping, got {type(loaded).__name__}", file=str(path)
        )
    return loaded


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _refuse_file_secrets(data: dict[str, Any], path: Path) -> None:
    for section, key in SECRET_KEYS:
        sect = data.get(section)
        if isinstance(sect, dict) and sect.get(key):
            raise ConfigError(
                f"{section}.{key} is a secret and must come from the environment "
                f"(OPSFORGE_{section.upper()}__{key.upper()}), not from {path}",
                key=f"{section}.{key}",
                file=str(path),
            )


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build settings from the default YAML, an optional file, the environment, and overrides.

    Raises
    ------
    ConfigError
        A file is unreadable, holds a secret, or a value is invalid; the message names the key.
    """
    data: dict[str, Any] = {}
    files = [DEFAULT_CONFIG_PATH]
    env_file = os.environ.get("OPSFORGE_CONFIG")
    if config_file is not None:
        files.append(config_file)
    elif env_file:
        files.append(Path(env_file))
    for path in files:
        if path.exists() or path != DEFAULT_CONFIG_PATH:
            loaded = _read_yaml(path)
            _refuse_file_secrets(loaded, path)
            data = _merge(data, loaded)
    data = _merge(data, overrides)
    try:
        return Settings(**data)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        raise ConfigError(
            f"invalid setting {key!r}: {first['msg']} (got {first.get('input')!r})", key=key
        ) from exc


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, loaded once."""
    return load_settings()


def reset_settings_cache() -> None:
    """Forget the cached settings (tests, or after changing the environment)."""
    get_settings.cache_clear()
