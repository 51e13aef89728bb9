"""Every export format round-trips: write -> read -> same values; lon,lat order checked."""

from __future__ import annotations

import dataclasses
import itertools
import json
import zipfile
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from delivery_fixtures import GIS, make_result
from lxml import etree
from polars.testing import assert_frame_equal

from opsforge.core.errors import DataQualityError
from opsforge.engines.ran import exports, geo_exports


def test_recommendations_csv_parquet_json_round_trip(tmp_path: Path) -> None:
    result = make_result()
    paths = exports.write_recommendations(result, tmp_path)
    expected = result.recommendations.sort("cell_id", "issue")
    assert_frame_equal(exports.read_recommendations_csv(paths["recommendations_csv"]), expected)
    assert_frame_equal(
        exports.read_recommendations_parquet(paths["recommendations_parquet"]), expected
    )
    assert_frame_equal(exports.read_recommendations_json(paths["recommendations_json"]), expected)
    doc = json.loads(paths["recommendations_json"].read_text())
    assert doc["num_recommendations"] == 4
    assert doc["columns"]["tilt_change_deg"] == "Float64"


def test_conflicts_round_trip(tmp_path: Path) -> None:
    result = make_result()
    path = exports.write_conflicts(result, tmp_path / "conflicts.csv")
    assert path.read_text().splitlines()[0] == (
        "cell_id,cell_name,issue,action,tilt_change_deg,confidence,resolution,reason"
    )
    assert_frame_equal(exports.read_conflicts_csv(path), result.conflicts)
    empty = exports.write_conflicts(
        dataclasses.replace(result, conflicts=result.conflicts.clear()), tmp_path / "none.csv"
    )
    assert exports.read_conflicts_csv(empty).height == 0


def test_interference_grids_round_trip(tmp_path: Path) -> None:
    result = make_result()
    path = exports.write_interference_grids(result, tmp_path / "interference_grids.csv")
    assert path.read_text().splitlines()[0] == "zone_id,grid,num_cells,cells"
    assert_frame_equal(exports.read_interference_grids(path), result.interference_grids)


def test_atoll_change_table_has_atoll_captions_and_round_trips(tmp_path: Path) -> None:
    path = exports.write_atoll_changes(make_result(), GIS, tmp_path / "atoll.txt")
    header = path.read_text().splitlines()[0].split("\t")
    assert header == list(exports.ATOLL_COLUMNS)
    table = exports.read_atoll_changes(path)
    assert table.height == 4
    row = table.filter(pl.col("Transmitter") == "S1_A").row(0, named=True)
    assert row["Site"] == "S1"
    assert row["Azimut"] == pytest.approx(0.0)
    assert row["Electrical Downtilt"] == pytest.approx(4.0)
    assert row["Proposed Electrical Downtilt"] == pytest.approx(6.0)
    assert row["Downtilt Change"] == pytest.approx(2.5)
    assert row["Mechanical Downtilt"] == pytest.approx(1.0)
    assert row["Proposed Mechanical Downtilt"] == pytest.approx(1.5)
    swap = table.filter(pl.col("Transmitter") == "S2_A").row(0, named=True)
    assert swap["Action"] == "swap_feeders"
    assert swap["Proposed Electrical Downtilt"] == pytest.approx(swap["Electrical Downtilt"])


def _expected_tems() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "Cell": ["S1_A", "S1_B", "S1_C", "S2_A", "S2_B", "S2_C"],
            "CI": [101.0, 102.0, 103.0, 201.0, 202.0, 203.0],
            "NODE_B": ["S1", "S1", "S1", "S2", "S2", "S2"],
            "Lat": [39.74] * 3 + [39.75] * 3,
            "Lon": [-104.99] * 3 + [-104.97] * 3,
            "EARFCN": [66786.0] * 6,
            "ANT_DIRECTION": [0.0, 120.0, 240.0, 30.0, 150.0, 270.0],
            "ANT_BEAM_WIDTH": [65.0, 65.0, 65.0, 65.0, 90.0, 65.0],
            "ANT_HEIGHT": [30.0, 30.0, 30.0, 25.5, 25.5, 25.5],
            # proposed mechanical + electrical: 101 downtilted E 4->6 and M 1->1.5, 203 uptilted
            # E 2->0.5
            "ANT_TILT": [7.5, 5.0, 8.0, 3.0, 5.5, 0.5],
        }
    )


def test_tems_cel_round_trip_and_header(tmp_path: Path) -> None:
    path = exports.write_tems_cel(make_result(), GIS, tmp_path / "tems.cel")
    raw = path.read_bytes()
    assert raw.startswith(b"55 TEMS_-_Cell_names\r\nCell\tCI\tNODE_B\tLat\tLon\t")
    assert_frame_equal(exports.read_tems_cel(path), _expected_tems())
    bad = tmp_path / "bad.cel"
    bad.write_text("Cell\tLat\n")
    with pytest.raises(DataQualityError, match="TEMS_-_Cell_names"):
        exports.read_tems_cel(bad)


def test_tems_xml_round_trip_and_structure(tmp_path: Path) -> None:
    path = exports.write_tems_xml(make_result(), GIS, tmp_path / "tems.xml", date(2026, 1, 2))
    root = etree.parse(str(path)).getroot()
    assert root.tag == "TEMS_CELL_EXPORT"
    assert root.findtext("GENERATED_DATE") == "2026-01-02"
    assert len(root.findall("LTE/CELL_LIST/LTE_CELL")) == 6
    assert_frame_equal(exports.read_tems_xml(path), _expected_tems())


def test_zones_geojson_is_rfc7946_lon_lat(tmp_path: Path) -> None:
    path = geo_exports.write_zones_geojson(make_result(), tmp_path / "zones.geojson")
    features = geo_exports.read_geojson(path)
    assert len(features) == 1
    ring = features[0]["geometry"]["coordinates"][0]
    # lon first: Denver is at lon ~ -105, lat ~ 39.7
    assert all(-106 < lon < -104 and 39 < lat < 40 for lon, lat in ring)
    assert ring[0] == ring[-1]
    area2 = sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in itertools.pairwise(ring))
    assert area2 > 0  # counter-clockwise exterior (right-hand rule)
    props = features[0]["properties"]
    assert props["cell_ids"] == [101, 102, 201]
    assert props["traffic"] == 80


def test_cells_geojson_wedges_point_along_bearing(tmp_path: Path) -> None:
    path = geo_exports.write_cells_geojson(make_result(), GIS, tmp_path / "cells.geojson", 500.0)
    features = {f["properties"]["cell_id"]: f for f in geo_exports.read_geojson(path)}
    assert len(features) == 6
    north = features[101]
    ring = north["geometry"]["coordinates"][0]
    assert [-104.99, 39.74] in ring  # apex at the site, lon first
    far = max(ring, key=lambda p: p[1])
    assert far[1] == pytest.approx(39.74 + 500 / 111_195, abs=2e-4)  # 500 m north
    assert north["properties"]["issue"] == "overshooting"
    assert north["properties"]["proposed_tilt_e_deg"] == pytest.approx(6.0)
    assert features[102]["properties"]["issue"] == "none"
    # east-facing sector (S2_C 270 deg looks west): its far points have smaller lon than apex
    west = features[203]["geometry"]["coordinates"][0]
    assert min(p[0] for p in west) < -104.97 - 0.004


@pytest.mark.parametrize("kind", ["kml", "kmz"])
def test_kml_and_kmz_round_trip_with_lon_lat_coordinates(tmp_path: Path, kind: str) -> None:
    result = make_result()
    if kind == "kml":
        path = geo_exports.write_kml(result, GIS, tmp_path / "cells.kml", 500.0)
        text = path.read_text()
        placemarks = geo_exports.read_kml(path)
    else:
        path = geo_exports.write_kmz(result, GIS, tmp_path / "cells.kmz", 500.0)
        with zipfile.ZipFile(path) as zf:
            assert zf.namelist() == ["doc.kml"]
            text = zf.read("doc.kml").decode()
        placemarks = geo_exports.read_kmz(path)
    assert "-104.9900000,39.7400000,0" in text  # lon,lat,alt
    by_name = {p["name"]: p for p in placemarks}
    assert set(by_name) == {"S1_A", "S1_B", "S1_C", "S2_A", "S2_B", "S2_C"}
    assert by_name["S1_A"]["issue"] == "overshooting"
    assert by_name["S2_A"]["issue"] == "crossed_feeder"
    assert by_name["S1_B"]["issue"] == "none"
    assert by_name["S1_A"]["data"]["proposed_tilt_e_deg"] == "6.0"
    assert by_name["S2_A"]["data"]["swap_with"] == "202"
    geo = {
        f["properties"]["cell_name"]: f["geometry"]["coordinates"][0]
        for f in geo_exports.read_geojson(
            geo_exports.write_cells_geojson(result, GIS, tmp_path / "c.geojson", 500.0)
        )
    }
    for name, placemark in by_name.items():
        flat_kml = [v for point in placemark["ring"] for v in point]
        flat_geo = [v for point in geo[name] for v in point]
        assert flat_kml == pytest.approx(flat_geo, abs=1e-7)
    assert "<table>" in text
    assert "Reason" in text
    assert "ff2827d6" in text  # overshooting red as aabbggrr


def test_sector_wedge_is_closed_ccw_and_omni_is_a_circle() -> None:
    ring = geo_exports.sector_wedge(10.0, 50.0, 90.0, 60.0, 1000.0)
    assert ring[0] == ring[-1]
    circle = geo_exports.sector_wedge(10.0, 50.0, 0.0, 360.0, 1000.0)
    lons, lats = geo_exports.destination_lonlat(10.0, 50.0, 180.0, 1000.0)
    assert min(p[1] for p in circle) == pytest.approx(float(lats), abs=1e-9)
    assert float(lons) == pytest.approx(10.0)
