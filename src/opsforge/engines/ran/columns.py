"""Column specifications of the RAN input files: canonical names, users' aliases, valid ranges.

The canonical names are those of the engine contract (``docs/engines/ran.md``); ``user_name`` is
the column the writers use, i.e. the users' own format (``global_cell_id``, ``CILAC``, ``TiltE``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import polars as pl

from opsforge.engines.ran.quality import RangeRule

__all__ = [
    "GEOHASH7_PATTERN",
    "GIS_FIELDS",
    "GIS_RULES",
    "GRID_FIELDS",
    "GRID_RULES",
    "FieldSpec",
    "FileFormat",
]

#: Geohash of precision 7 in the base-32 alphabet ``0123456789bcdefghjkmnpqrstuvwxyz``.
GEOHASH7_PATTERN = r"^[0-9b-hjkmnp-z]{7}$"

FileFormat = Literal["csv", "parquet"]


@dataclass(frozen=True)
class FieldSpec:
    """One canonical column: dtype, whether required, and the users' names it accepts."""

    name: str
    dtype: type[pl.DataType]
    required: bool
    aliases: tuple[str, ...]
    user_name: str  # the name the writers use


GRID_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("grid", pl.String, True, ("grid", "geohash", "geohash7", "grid_id", "bin"), "grid"),
    FieldSpec(
        "cell_id",
        pl.Int64,
        True,
        ("global_cell_id", "cilac", "cell_id", "cellid", "gci", "ecgi", "eci"),
        "global_cell_id",
    ),
    FieldSpec("rsrp_dbm", pl.Float64, True, ("avg_rsrp", "rsrp", "rsrp_dbm"), "avg_rsrp"),
    FieldSpec("rsrq_db", pl.Float64, False, ("avg_rsrq", "rsrq", "rsrq_db"), "avg_rsrq"),
    FieldSpec("sinr_db", pl.Float64, False, ("avg_sinr", "sinr", "sinr_db"), "avg_sinr"),
    FieldSpec(
        "event_count",
        pl.Int64,
        True,
        ("eventcount", "event_count", "events", "num_events", "samples", "count"),
        "eventCount",
    ),
)

GIS_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec(
        "cell_id", pl.Int64, True, ("cilac", "global_cell_id", "cell_id", "ecellid"), "CILAC"
    ),
    FieldSpec(
        "cell_name",
        pl.String,
        True,
        ("name", "cell_name", "cellname", "cell", "transmitter"),
        "Name",
    ),
    FieldSpec(
        "site_id",
        pl.String,
        False,
        ("site", "site_id", "siteid", "site_name", "enodeb", "node_b", "gnodeb", "enb"),
        "Site",
    ),
    FieldSpec("lat_deg", pl.Float64, True, ("latitude", "lat", "lat_deg"), "Latitude"),
    FieldSpec(
        "lon_deg", pl.Float64, True, ("longitude", "lon", "lng", "long", "lon_deg"), "Longitude"
    ),
    FieldSpec(
        "bearing_deg",
        pl.Float64,
        True,
        (
            "bearing",
            "azimuth",
            "azimut",
            "bearing_deg",
            "azimuth_deg",
            "antenna_azimuth",
            "ant_direction",
        ),
        "Bearing",
    ),
    FieldSpec(
        "tilt_e_deg",
        pl.Float64,
        True,
        (
            "tilte",
            "tilt_e",
            "electrical_tilt",
            "etilt",
            "tilt_e_deg",
            "electrical_downtilt",
            "tilt_electrical",
        ),
        "TiltE",
    ),
    FieldSpec(
        "tilt_m_deg",
        pl.Float64,
        True,
        (
            "tiltm",
            "tilt_m",
            "mechanical_tilt",
            "mtilt",
            "tilt_m_deg",
            "mechanical_downtilt",
            "tilt_mechanical",
        ),
        "TiltM",
    ),
    FieldSpec(
        "height_m",
        pl.Float64,
        True,
        ("height", "antenna_height", "height_m", "antenna_height_m", "ant_height", "height_agl"),
        "Height",
    ),
    FieldSpec("band", pl.String, False, ("band", "frequency_band", "freq_band"), "Band"),
    FieldSpec(
        "earfcn",
        pl.Int64,
        False,
        ("earfcn", "earfcn_dl", "dl_earfcn", "arfcn", "dl_arfcn"),
        "EARFCN",
    ),
    FieldSpec(
        "hbw_deg",
        pl.Float64,
        False,
        ("hbw", "hbw_deg", "horizontal_beamwidth", "h_beamwidth", "beamwidth_h", "ant_beam_width"),
        "HBW",
    ),
    FieldSpec(
        "vbw_deg",
        pl.Float64,
        False,
        ("vbw", "vbw_deg", "vertical_beamwidth", "v_beamwidth", "beamwidth_v"),
        "VBW",
    ),
    FieldSpec("ret_min_deg", pl.Float64, False, ("retmin", "ret_min", "ret_min_deg"), "RETMin"),
    FieldSpec("ret_max_deg", pl.Float64, False, ("retmax", "ret_max", "ret_max_deg"), "RETMax"),
    FieldSpec("environment", pl.String, False, ("environment", "env", "clutter"), "Environment"),
)

#: Valid ranges. RSRQ uses the 3GPP extended reporting range (TS 36.133 §9.1.7, -34..2.5 dB),
#: wider than the classic -19.5..-3 dB, so legitimate extended reports are not quarantined.
GRID_RULES: list[RangeRule] = [
    RangeRule("cell_id", 1),
    RangeRule("rsrp_dbm", -144.0, -44.0, "dBm"),
    RangeRule("rsrq_db", -34.0, 2.5, "dB"),
    RangeRule("sinr_db", -20.0, 40.0, "dB"),
    RangeRule("event_count", 1),
]
GIS_RULES: list[RangeRule] = [
    RangeRule("cell_id", 1),
    RangeRule("lat_deg", -90.0, 90.0, "deg"),
    RangeRule("lon_deg", -180.0, 180.0, "deg"),
    RangeRule("bearing_deg", 0.0, 360.0, "deg"),
    RangeRule("tilt_e_deg", 0.0, 20.0, "deg"),
    RangeRule("tilt_m_deg", 0.0, 20.0, "deg"),
    RangeRule("height_m", 0.0, 200.0, "m"),
    RangeRule("hbw_deg", 1.0, 360.0, "deg"),
    RangeRule("vbw_deg", 1.0, 90.0, "deg"),
    RangeRule("ret_min_deg", 0.0, 20.0, "deg"),
    RangeRule("ret_max_deg", 0.0, 20.0, "deg"),
]
ENVIRONMENTS = ("urban", "suburban", "rural")
NUMERIC = (pl.Float64, pl.Int64)
IDENTIFIERS = ("cell_id", "earfcn")  # numeric, but a distribution of them means nothing
