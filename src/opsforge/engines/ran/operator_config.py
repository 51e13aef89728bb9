"""Per-operator configuration files in seed 000's shape (``config/operators/<op>_<region>.yaml``).

::

    operator: DISH
    region: Denver
    data:                      # optional; ${VAR} placeholders are kept as written
      input: {grid: ..., gis: ...}
      output: {base: ...}
    features:                  # -> RanParams.from_operator_config
      overshooters: {enabled: true, params: {...}}
    processing: {chunk_size: 100000, n_workers: 4, timeout_minutes: 60}
    columns:                   # optional: canonical name -> the operator's column
      grid: {rsrp_dbm: RSRP_AVG}
      gis: {cell_id: ECGI}

Every key is validated; an unknown key or a bad value raises
:class:`~opsforge.core.errors.ConfigError` naming the key and the file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from opsforge.core.errors import ConfigError
from opsforge.engines.ran.model import RanParams

__all__ = ["OperatorConfig", "expand_placeholders", "load_operator_config"]

_STRICT = ConfigDict(extra="forbid", frozen=True)
_GRID_COLUMNS = {"grid", "cell_id", "rsrp_dbm", "rsrq_db", "sinr_db", "event_count"}
_GIS_COLUMNS = {
    "cell_id", "cell_name", "site_id", "lat_deg", "lon_deg", "bearing_deg", "tilt_e_deg",
    "tilt_m_deg", "height_m", "band", "earfcn", "hbw_deg", "vbw_deg", "ret_min_deg",
    "ret_max_deg", "environment",
}  # fmt: skip


class DataInput(BaseModel):
    model_config = _STRICT
    grid: str | None = None
    gis: str | None = None


class DataOutput(BaseModel):
    model_config = _STRICT
    base: str | None = None


class DataSection(BaseModel):
    model_config = _STRICT
    input: DataInput = DataInput()
    output: DataOutput = DataOutput()


class ProcessingSection(BaseModel):
    model_config = _STRICT
    chunk_size: int = Field(100_000, ge=1)
    n_workers: int = Field(1, ge=1)
    timeout_minutes: float = Field(60.0, gt=0)


class ColumnsSection(BaseModel):
    """Canonical column name -> the operator's column name, per file."""

    model_config = _STRICT
    grid: dict[str, str] = Field(default_factory=dict)
    gis: dict[str, str] = Field(default_factory=dict)


class _OperatorFile(BaseModel):
    model_config = _STRICT
    operator: str = Field(min_length=1)
    region: str = Field(min_length=1)
    data: DataSection = DataSection()
    features: dict[str, Any] = Field(default_factory=dict)
    processing: ProcessingSection = ProcessingSection()
    columns: ColumnsSection = ColumnsSection()


class OperatorConfig(BaseModel):
    """A validated operator file: engine parameters plus the delivery settings."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    operator: str
    region: str
    params: RanParams
    grid_columns: dict[str, str] = Field(default_factory=dict)
    gis_columns: dict[str, str] = Field(default_factory=dict)
    data: DataSection = DataSection()
    processing: ProcessingSection = ProcessingSection()
    source: str = Field("", description="Path of the file it came from.")

    @property
    def tenant(self) -> str:
        """``<operator>_<region>`` in lower case, e.g. ``dish_denver``."""
        return f"{self.operator}_{self.region}".lower().replace(" ", "_")


def load_operator_config(path: Path) -> OperatorConfig:
    """Read and validate an operator YAML file.

    Raises
    ------
    ConfigError
        Unreadable file, not a mapping, unknown key, bad value or unknown column name; the
        message names the key and the file.
    """
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"operator config {path} cannot be read: {exc}", file=str(path)) from exc
    if not isinstance(raw, Mapping):
        raise ConfigError(
            f"operator config {path} must be a mapping, got {type(raw).__name__}", file=str(path)
        )
    return parse_operator_config(raw, source=str(path))


def parse_operator_config(raw: Mapping[str, Any], source: str = "<mapping>") -> OperatorConfig:
    """Validate an already-parsed operator mapping (see :func:`load_operator_config`)."""
    try:
        parsed = _OperatorFile.model_validate(dict(raw))
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        raise ConfigError(
            f"operator config {source}: key {key!r}: {first['msg']} (got {first.get('input')!r})",
            file=source,
            key=key,
        ) from exc
    try:
        params = RanParams.from_operator_config({"features": parsed.features})
    except ConfigError as exc:
        context = {**exc.context, "file": source}
        raise ConfigError(f"operator config {source}: {exc.message}", **context) from exc
    for kind, mapping, allowed in (
        ("grid", parsed.columns.grid, _GRID_COLUMNS),
        ("gis", parsed.columns.gis, _GIS_COLUMNS),
    ):
        for canon in mapping:
            if canon not in allowed:
                raise ConfigError(
                    f"operator config {source}: key 'columns.{kind}.{canon}' is not a {kind} "
                    f"column; expected one of {sorted(allowed)}",
                    file=source,
                    key=f"columns.{kind}.{canon}",
                )
    return OperatorConfig(
        operator=parsed.operator,
        region=parsed.region,
        params=params,
        grid_columns=dict(parsed.columns.grid),
        gis_columns=dict(parsed.columns.gis),
        data=parsed.data,
        processing=parsed.processing,
        source=source,
    )


def expand_placeholders(value: str, env: Mapping[str, str]) -> str:
    """Replace ``${NAME}`` with ``env[NAME]`` (the caller passes the environment it trusts).

    Raises
    ------
    ConfigError
        When a placeholder names a variable that is not set.
    """
    source = env

    def sub(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in source:
            raise ConfigError(f"placeholder ${{{name}}} in {value!r} is not set", key=name)
        return source[name]

    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", sub, value)
