"""Loaders and geographic exports on real crowdsourced LTE cell lists (../shared/data/cells)."""

from __future__ import annotations

import itertools
from pathlib import Path

import polars as pl
import pytest
from delivery_fixtures import make_result
from hypothesis import given, settings
from hypothesis import strategies as st

from opsforge.core.errors import DataQualityError
from opsforge.engines.ran import geo_exports, geohash, io
from opsforge.engines.ran.model import RanResult

SHARED = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "cells"
UK = SHARED / "nsg_uk_lte" / "23410_merged_cells_eutra.csv"
DE = SHARED / "nsg_de_lte" / "Germany_262-01_-02_-03.csv"


def _need(path: Path) -> None:
    if not path.exists():
        pytest.skip(f"shared cell data not present at {path}")


@pytest.mark.shared
def test_real_cell_list_without_tilts_fails_naming_the_missing_column() -> None:
    _need(DE)
    with pytest.raises(DataQualityError, match="tilt_e_deg") as info:
        io.read_gis(DE)
    assert "CellName" in info.value.message  # the columns found are listed


@pytest.mark.shared
def test_uk_cells_load_with_aliases_and_export_in_lon_lat_order(tmp_path: Path) -> None:
    _need(UK)
    raw = pl.read_csv(UK).with_columns(
        pl.lit(4.0).alias("TiltE"), pl.lit(2.0).alias("TiltM"), pl.lit(25.0).alias("Height")
    )
    path = tmp_path / "uk.csv"
    raw.write_csv(path)
    loaded = io.read_gis(path)  # ECellID, CellName, Azimuth, EARFCN found through aliases
    assert loaded.report.column_mapping["cell_id"] == "ECellID"
    assert loaded.report.column_mapping["bearing_deg"] == "Azimuth"
    assert loaded.report.num_rows_read == raw.height == 884
    gis = loaded.frame
    assert gis.height + loaded.report.num_rows_quarantined == raw.height
    assert gis.get_column("lon_deg").is_between(-0.3, 0.0).all()  # West Sussex
    assert gis.get_column("lat_deg").is_between(50.7, 51.3).all()
    assert gis.get_column("site_id").n_unique() < gis.height  # sectors share derived sites
    empty = RanResult(
        recommendations=make_result().recommendations.clear(),
        interference_grids=make_result().interference_grids.clear(),
        interference_zones=[],
        conflicts=make_result().conflicts.clear(),
        coverage=make_result().coverage.clear(),
        cell_stats=make_result().cell_stats.clear(),
    )
    features = geo_exports.read_geojson(
        geo_exports.write_cells_geojson(empty, gis, tmp_path / "uk.geojson", 300.0)
    )
    assert len(features) == gis.height
    for feature in features:
        lon, lat = feature["geometry"]["coordinates"][0][0]
        assert -0.3 < lon < 0.0
        assert 50.7 < lat < 51.3
    placemarks = geo_exports.read_kml(geo_exports.write_kml(empty, gis, tmp_path / "uk.kml"))
    assert {p["issue"] for p in placemarks} == {"none"}


@settings(max_examples=60, deadline=None)
@given(
    lat=st.floats(-70, 70),
    lon=st.floats(-170, 170),
    bearing=st.floats(0, 359.9),
    hbw=st.floats(10, 120),
    radius=st.floats(50, 5000),
)
def test_wedge_arc_lies_at_radius_and_ring_is_ccw(
    lat: float, lon: float, bearing: float, hbw: float, radius: float
) -> None:
    ring = geo_exports.sector_wedge(lon, lat, bearing, hbw, radius)
    assert ring[0] == ring[-1]
    arc = [p for p in ring if p != (lon, lat)]
    dist = geohash.haversine_m([lat] * len(arc), [lon] * len(arc),
                               [p[1] for p in arc], [p[0] for p in arc])  # fmt: skip
    assert dist == pytest.approx([radius] * len(arc), rel=1e-6)
    # shoelace in a frame centred on the site (no wrap issues near the antimeridian)
    pts = [(x - lon, y - lat) for x, y in ring]
    area2 = sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in itertools.pairwise(pts))
    assert area2 > 0
