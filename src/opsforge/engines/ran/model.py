"""Validated parameters and the result of the RAN optimizer (seed 000).

The operator configuration keeps seed 000's YAML shape ``features.<detector>.enabled/params``
and seed 000's parameter names. Names that carry a unit get the unit as a suffix here
(``min_cell_distance_m``); the seed's bare name stays accepted as an alias
(``min_cell_distance``). Fractions are in [0, 1] (``0.1`` means 10 %).

The detector blocks live in :mod:`.params` and are re-exported here; every parameter is
documented with its exact meaning in ``docs/engines/ran.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import polars as pl
from pydantic import BaseModel, ConfigDict, ValidationError

from opsforge.core.errors import ConfigError
from opsforge.engines.ran.params import (
    STRICT,
    ConflictParams,
    CrossedFeederParams,
    ImpactParams,
    InterferenceParams,
    OvershooterParams,
    UndershooterParams,
)

__all__ = [
    "ConflictParams",
    "ConflictsSection",
    "CrossedFeederParams",
    "CrossedFeedersSection",
    "ImpactParams",
    "ImpactSection",
    "InterferenceParams",
    "InterferenceSection",
    "InterferenceZone",
    "OvershooterParams",
    "OvershootersSection",
    "RanParams",
    "RanResult",
    "UndershooterParams",
    "UndershootersSection",
]


class _Section(BaseModel):
    model_config = STRICT
    enabled: bool = True


class OvershootersSection(_Section):
    params: OvershooterParams = OvershooterParams()


class UndershootersSection(_Section):
    params: UndershooterParams = UndershooterParams()


class CrossedFeedersSection(_Section):
    params: CrossedFeederParams = CrossedFeederParams()


class InterferenceSection(_Section):
    params: InterferenceParams = InterferenceParams()


class ConflictsSection(_Section):
    params: ConflictParams = ConflictParams()


class ImpactSection(_Section):
    params: ImpactParams = ImpactParams()


class RanParams(BaseModel):
    """All parameters of :func:`opsforge.engines.ran.recommend`, one section per detector."""

    model_config = STRICT

    overshooters: OvershootersSection = OvershootersSection()
    undershooters: UndershootersSection = UndershootersSection()
    crossed_feeders: CrossedFeedersSection = CrossedFeedersSection()
    interference: InterferenceSection = InterferenceSection()
    conflicts: ConflictsSection = ConflictsSection()
    impact: ImpactSection = ImpactSection()

    @classmethod
    def from_operator_config(cls, config: Mapping[str, Any]) -> RanParams:
        """Build parameters from an operator file's mapping.

        Parameters
        ----------
        config
            Either the whole operator mapping (with a ``features`` key) or the ``features``
            mapping itself: ``{detector: {enabled: bool, params: {...}}}``. Detectors left out
            keep their defaults; unknown keys are rejected.

        Raises
        ------
        ConfigError
            When a key is unknown or a value is out of range; the message names the key.
        """
        features = config.get("features", config)
        if not isinstance(features, Mapping):
            raise ConfigError(
                f"expected 'features' to be a mapping of detectors, got {type(features).__name__}",
                key="features",
            )
        try:
            return cls.model_validate(dict(features))
        except ValidationError as exc:
            first = exc.errors()[0]
            loc = ".".join(str(part) for part in first["loc"])
            raise ConfigError(
                f"invalid RAN parameter features.{loc}: {first['msg']} (got {first.get('input')!r})",
                key=f"features.{loc}",
            ) from exc


class InterferenceZone(BaseModel):
    """One connected interference zone on the geohash grid."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    zone_id: int
    #: Closed ring (first point repeated last), (lon, lat) order. [deg]
    polygon_lonlat: list[tuple[float, float]]
    cell_ids: list[int]
    num_grids: int
    #: Sum of eventCount over the zone's bins (best-server rows). [1]
    traffic: int
    centroid_lon_deg: float
    centroid_lat_deg: float


@dataclass(frozen=True)
class RanResult:
    """Output of :func:`opsforge.engines.ran.recommend`; the columns are in ``docs/engines/ran.md``."""

    recommendations: pl.DataFrame
    interference_grids: pl.DataFrame
    interference_zones: list[InterferenceZone]
    conflicts: pl.DataFrame
    coverage: pl.DataFrame
    cell_stats: pl.DataFrame
    summary: dict[str, int | float] = field(default_factory=dict)


#: Column schemas of the result frames (used to build empty frames with the right types).
RECOMMENDATION_SCHEMA: dict[str, pl.DataType] = {
    "cell_id": pl.Int64(),
    "cell_name": pl.Utf8(),
    "site_id": pl.Utf8(),
    "issue": pl.Utf8(),
    "action": pl.Utf8(),
    "tilt_change_deg": pl.Float64(),
    "current_tilt_e_deg": pl.Float64(),
    "proposed_tilt_e_deg": pl.Float64(),
    "current_tilt_m_deg": pl.Float64(),
    "proposed_tilt_m_deg": pl.Float64(),
    "swap_with": pl.Utf8(),
    "permutation": pl.Utf8(),
    "confidence": pl.Float64(),
    "impact_bins_gained": pl.Int64(),
    "impact_bins_lost": pl.Int64(),
    "impact_traffic_gained": pl.Int64(),
    "impact_traffic_lost": pl.Int64(),
    "impact_coverage_change_pct": pl.Float64(),
    "impact_sinr_change_db": pl.Float64(),
    "impact_throughput_change_pct": pl.Float64(),
    "reason": pl.Utf8(),
    "evidence_json": pl.Utf8(),
}
INTERFERENCE_GRID_SCHEMA: dict[str, pl.DataType] = {
    "zone_id": pl.Int64(),
    "grid": pl.Utf8(),
    "num_cells": pl.Int64(),
    "cells": pl.Utf8(),
}
CONFLICT_SCHEMA: dict[str, pl.DataType] = {
    "cell_id": pl.Int64(),
    "cell_name": pl.Utf8(),
    "issue": pl.Utf8(),
    "action": pl.Utf8(),
    "tilt_change_deg": pl.Float64(),
    "confidence": pl.Float64(),
    "resolution": pl.Utf8(),
    "reason": pl.Utf8(),
}
#: ``changes.csv``: one row per cell the comparison of two runs has something to say about.
CHANGE_SCHEMA: dict[str, pl.DataType] = {
    "cell_id": pl.Int64(),
    "cell_name": pl.Utf8(),
    "verdict": pl.Utf8(),
    "previous_issue": pl.Utf8(),
    "previous_action": pl.Utf8(),
    "previous_tilt_change_deg": pl.Float64(),
    "applied": pl.Boolean(),
    "tilt_before_deg": pl.Float64(),
    "tilt_after_deg": pl.Float64(),
    "num_best_bins_before": pl.Int64(),
    "num_best_bins_after": pl.Int64(),
    "best_traffic_before": pl.Int64(),
    "best_traffic_after": pl.Int64(),
    "num_far_bins_before": pl.Int64(),
    "num_far_bins_after": pl.Int64(),
    "num_overshooting_bins_before": pl.Int64(),
    "num_overshooting_bins_after": pl.Int64(),
    "p95_distance_m_before": pl.Float64(),
    "p95_distance_m_after": pl.Float64(),
    "median_best_rsrp_dbm_before": pl.Float64(),
    "median_best_rsrp_dbm_after": pl.Float64(),
    "issues_after": pl.Utf8(),
    "related_cells": pl.Utf8(),
    "reason": pl.Utf8(),
}
COVERAGE_SCHEMA: dict[str, pl.DataType] = {
    "grid": pl.Utf8(),
    "cell_id": pl.Int64(),
    "rsrp_before_dbm": pl.Float64(),
    "rsrp_after_dbm": pl.Float64(),
}
CELL_STATS_SCHEMA: dict[str, pl.DataType] = {
    "cell_id": pl.Int64(),
    "cell_name": pl.String(),
    "band": pl.String(),
    "lat_deg": pl.Float64(),
    "lon_deg": pl.Float64(),
    "isd_m": pl.Float64(),
    "bearing_deg": pl.Float64(),
    "tilt_e_deg": pl.Float64(),
    "tilt_m_deg": pl.Float64(),
    "num_bins": pl.Int64(),
    "traffic": pl.Int64(),
    "num_best_bins": pl.Int64(),
    "best_traffic": pl.Int64(),
    "p95_distance_m": pl.Float64(),
    "max_distance_m": pl.Float64(),
    "num_far_bins": pl.Int64(),
    "num_overshooting_bins": pl.Int64(),
    "median_best_rsrp_dbm": pl.Float64(),
}
