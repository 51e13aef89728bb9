"""Loaders of the RAN input files: mapping, validation, quarantine, report, writers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from opsforge.core.errors import DataQualityError, NotFoundError
from opsforge.engines.ran import io

GRID_CSV = """grid,global_cell_id,avg_rsrp,avg_rsrq,avg_sinr,eventCount
9xj64fb,1001,-95.5,-10,5,12
9xj64fb,1001,-96.5,-11,4,3
9xj64fc,1002,-30,-10,5,3
9XJ64FD,1001,-100,,,4
9xj64fe,1001,abc,-10,5,4
9xj64fg,1001,-100,-10,5,0
9xj64i0,1001,-100,-10,5,1
9xj64fh,9999,-100,-10,5,1
9xj64fj,1001,-100,-10,5,1.5
9xj64fk,1002,-101,-10,-35,7
"""

GIS_CSV = """Name,CILAC,Latitude,Longitude,Bearing,TiltE,TiltM,Height,HBW
A1,1001,39.7,-104.9,0,4,2,30,65
A2,1002,39.7,-104.9,120,4,2,30,700
A2dup,1002,39.7,-104.9,120,4,2,30,65
A3,1003,39.7,-104.9,360,44,2,30,65
B1,1004,39.8,-104.8,360,4,2,30,65
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _reasons(loaded: io.LoadedFrame) -> dict[int, set[str]]:
    out: dict[int, set[str]] = {}
    for row, reason in loaded.quarantine.select("row_number", "reason").iter_rows():
        out.setdefault(int(row), set()).add(str(reason))
    return out


def test_read_grid_maps_columns_and_quarantines_each_bad_row_with_its_reason(
    tmp_path: Path,
) -> None:
    loaded = io.read_grid(_write(tmp_path, "grid.csv", GRID_CSV))
    assert loaded.frame.columns == [
        "grid", "cell_id", "rsrp_dbm", "rsrq_db", "sinr_db", "event_count",
    ]  # fmt: skip
    assert loaded.frame.schema["cell_id"] == pl.Int64
    assert loaded.frame.schema["event_count"] == pl.Int64
    reasons = _reasons(loaded)
    assert reasons[2] == {"duplicate (grid, cell_id) row"}
    assert reasons[3] == {"out of range [-144, -44] dBm"}
    assert reasons[5] == {"not a number"}
    assert reasons[6] == {"below 1"}
    assert reasons[7] == {"not a geohash-7 string"}
    assert reasons[9] == {"not an integer"}
    # An out-of-range optional value is nulled, the row kept (counted, not quarantined).
    assert 10 not in reasons
    kept = loaded.frame.get_column("grid").to_list()
    assert kept == ["9xj64fb", "9xj64fd", "9xj64fh", "9xj64fk"]  # upper case normalised
    assert loaded.frame.filter(pl.col("grid") == "9xj64fk")["sinr_db"].to_list() == [None]
    assert loaded.row_numbers.to_list() == [1, 4, 8, 10]
    report = loaded.report
    assert report.num_rows_read == 10
    assert report.num_rows_valid == 4
    assert report.num_rows_quarantined == 6
    assert report.num_duplicates == 1
    assert report.quarantine_reasons["not a geohash-7 string"] == 1
    nulled = "out of range [-20, 40] dB; value set to null, row kept"
    assert report.values_nulled == {nulled: 1}
    assert report.values_nulled_examples == {nulled: [10]}
    assert report.column_mapping["cell_id"] == "global_cell_id"
    rsrp = report.columns["rsrp_dbm"]
    assert rsrp.min == pytest.approx(-101.0)
    assert rsrp.max == pytest.approx(-30.0)
    assert rsrp.num_out_of_range == 1
    assert rsrp.num_outliers >= 1  # -30 dBm is far outside the others' IQR


def test_read_gis_quarantines_duplicates_and_ranges_and_derives_sites(tmp_path: Path) -> None:
    loaded = io.read_gis(_write(tmp_path, "gis.csv", GIS_CSV))
    reasons = _reasons(loaded)
    assert reasons[3] == {"duplicate CILAC"}
    assert reasons[4] == {"out of range [0, 20] deg"}
    assert 2 not in reasons
    assert loaded.report.values_nulled == {
        "out of range [1, 360] deg; value set to null, row kept": 1
    }
    frame = loaded.frame
    assert frame.get_column("cell_id").to_list() == [1001, 1002, 1004]
    assert frame.filter(pl.col("cell_id") == 1002)["hbw_deg"].to_list() == [None]
    # 360 deg wraps to 0; co-located cells share a derived site id.
    assert frame.filter(pl.col("cell_id") == 1004)["bearing_deg"].to_list() == [0.0]
    sites = frame.get_column("site_id").to_list()
    assert sites[0] == sites[1] != sites[2]
    assert set(frame.columns) >= {"band", "earfcn", "vbw_deg", "environment"}


def test_sector_antennas_metres_apart_form_one_site(tmp_path: Path) -> None:
    # one rooftop: sectors 18-45 m apart (around a 30 m roof); a mast 300 m away; a chain of
    # antennas 40 m apart along a facade joins into one site (single linkage)
    m = 1.0 / 111_320.0  # deg of latitude per metre
    rows = [("R1", 0, 0), ("R2", 18, 0), ("R3", 9, 40), ("M1", 300, 0), ("M2", 300, 5),
            ("F1", 0, 900), ("F2", 40, 900), ("F3", 80, 900), ("F4", 120, 900)]  # fmt: skip
    text = "Name,CILAC,Latitude,Longitude,Bearing,TiltE,TiltM,Height\n" + "".join(
        f"{name},{k + 1},{39.7 + north * m:.7f},{-104.9 + east * m / 0.7698:.7f},0,4,0,30\n"
        for k, (name, north, east) in enumerate(rows)
    )
    frame = io.read_gis(_write(tmp_path, "gis.csv", text)).frame
    site = dict(zip(frame["cell_name"], frame["site_id"], strict=True))
    assert site["R1"] == site["R2"] == site["R3"]
    assert site["M1"] == site["M2"] != site["R1"]
    assert site["F1"] == site["F4"] != site["R1"]
    assert len(set(site.values())) == 3
    # named after the mean position of its cells, 1e-4 deg
    assert site["M1"] == f"S{round(39.7 + 300 * m, 4)}_{round(-104.9 + 2.5 * m / 0.7698, 4)}"


def test_colocated_sites_numbering_and_edges() -> None:
    from opsforge.engines.ran.prepare import colocated_sites

    lat = np.array([39.71, 39.70, 39.70, 39.71])
    lon = np.array([-104.9, -104.9, -104.9004, -104.9])  # cell 2 is 34 m east of cell 1
    assert colocated_sites(lat, lon).tolist() == [0, 1, 1, 0]
    assert colocated_sites(lat, lon, radius_m=20.0).tolist() == [0, 1, 2, 0]
    assert colocated_sites(np.zeros(0), np.zeros(0)).size == 0


def test_cross_check_quarantines_cells_missing_from_gis_and_report_counts_them(
    tmp_path: Path,
) -> None:
    grid = io.read_grid(_write(tmp_path, "grid.csv", GRID_CSV))
    gis = io.read_gis(_write(tmp_path, "gis.csv", GIS_CSV))
    checked = io.cross_check(grid, gis)
    assert 9999 not in checked.frame.get_column("cell_id").to_list()
    missing = checked.quarantine.filter(pl.col("reason") == "cell_id not in the GIS")
    assert missing.get_column("row_number").to_list() == [8]
    report = io.build_quality_report(checked, gis)
    assert report.num_cells_missing_from_gis == 1
    assert report.num_gis_cells == 3
    assert report.num_gis_cells_without_measurements == 1  # 1004
    assert report.grid.num_rows_valid == 3
    assert report.valid_row_fraction == pytest.approx(0.3)
    parsed = json.loads(report.model_dump_json())
    assert parsed["grid"]["quarantine_reasons"]["cell_id not in the GIS"] == 1
    out = checked.write_quarantine(tmp_path / "quarantine_grid.csv")
    written = pl.read_csv(out)
    assert written.columns == ["row_number", "column", "value", "reason"]
    assert written.height == checked.quarantine.height


def test_aliases_and_operator_column_map(tmp_path: Path) -> None:
    text = "GeoHash,CILAC,RSRP,EVENT_COUNT\n9xj64fb,7,-90,3\n"
    loaded = io.read_grid(_write(tmp_path, "a.csv", text))
    assert loaded.frame.row(0) == ("9xj64fb", 7, -90.0, None, None, 3)
    custom = "bin,ecgi_x,level,n\n9xj64fb,7,-90,3\n"
    mapped = io.read_grid(
        _write(tmp_path, "b.csv", custom),
        column_map={"cell_id": "ecgi_x", "rsrp_dbm": "level", "event_count": "n"},
    )
    assert mapped.frame.row(0) == ("9xj64fb", 7, -90.0, None, None, 3)
    with pytest.raises(DataQualityError, match="not a grid column"):
        io.read_grid(_write(tmp_path, "c.csv", custom), column_map={"rsrp": "level"})


def test_planning_tool_headers_load_through_aliases(tmp_path: Path) -> None:
    # captions as planning and drive-test tools write them (Atoll, TEMS, vendor exports)
    text = (
        "Transmitter,CILAC,NodeB,Latitude,Longitude,Antenna Azimuth,Electrical Downtilt,"
        "Mechanical Downtilt,Antenna Height (m),DL EARFCN,ANT_BEAM_WIDTH,V Beamwidth [deg]\n"
        "S1_A,101,S1,39.74,-104.99,30,4,1,25,66786,65,7\n"
    )
    loaded = io.read_gis(_write(tmp_path, "tx.csv", text))
    row = loaded.frame.row(0, named=True)
    assert (row["cell_name"], row["cell_id"], row["site_id"]) == ("S1_A", 101, "S1")
    assert (row["bearing_deg"], row["tilt_e_deg"], row["tilt_m_deg"]) == (30.0, 4.0, 1.0)
    assert (row["earfcn"], row["hbw_deg"], row["vbw_deg"]) == (66786, 65.0, 7.0)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("grid,global_cell_id,eventCount\n9xj64fb,1,3\n", r"no column for rsrp_dbm"),
        ("grid,global_cell_id,avg_rsrp,eventCount\n", r"no data rows"),
        ("", r"cannot be read|no data rows"),
        (
            "grid,global_cell_id,avg_rsrp,eventCount\n9xj64fb,1,weak,3\n9xj64fc,1,bad,3\n",
            r"column 'avg_rsrp' \(rsrp_dbm\) must be a number; no row parses, e\.g\. row 1",
        ),
    ],
)
def test_unusable_files_fail_naming_file_row_and_column(
    tmp_path: Path, text: str, match: str
) -> None:
    path = _write(tmp_path, "bad.csv", text)
    with pytest.raises(DataQualityError, match=match) as info:
        io.read_grid(path)
    assert str(path) in info.value.message


def test_missing_file_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        io.read_gis(tmp_path / "nope.csv")


def test_parquet_native_types_and_writers_round_trip(tmp_path: Path) -> None:
    grid = pl.DataFrame(
        {
            "grid": ["9xj64fb", "9xj64fc"],
            "cell_id": [11, 12],
            "rsrp_dbm": [-90.125, -101.5],
            "rsrq_db": [-10.0, None],
            "sinr_db": [3.25, -4.0],
            "event_count": [5, 9],
        }
    )
    pq = io.write_grid_parquet(grid, tmp_path / "grid.parquet")
    assert pl.read_parquet(pq).columns[:3] == ["grid", "global_cell_id", "avg_rsrp"]
    assert_frame_equal(io.read_grid(pq).frame, grid)
    csv = io.write_grid_csv(grid, tmp_path / "grid.csv")
    assert csv.read_text().splitlines()[0] == (
        "grid,global_cell_id,avg_rsrp,avg_rsrq,avg_sinr,eventCount"
    )
    assert_frame_equal(io.read_grid(csv).frame, grid)
    gis = io.read_gis(_write(tmp_path, "gis.csv", GIS_CSV)).frame
    back = io.read_gis(io.write_gis_csv(gis, tmp_path / "gis_out.csv")).frame
    assert_frame_equal(back, gis)
    header = (tmp_path / "gis_out.csv").read_text().splitlines()[0].split(",")
    assert header[:4] == ["Name", "CILAC", "Site", "Latitude"]


def test_gzip_csv_and_suffixless_parquet_are_detected(tmp_path: Path) -> None:
    import gzip

    gz = tmp_path / "grid.csv.gz"
    gz.write_bytes(gzip.compress(GRID_CSV.encode()))
    assert io.read_grid(gz).frame.height == 4
    plain = io.read_grid(_write(tmp_path, "grid.csv", GRID_CSV)).frame
    artifact = tmp_path / "artifact-0001"  # what a job runner may hand over: no suffix
    io.write_grid_parquet(plain, artifact)
    loaded = io.read_grid(artifact)
    assert loaded.report.file_format == "parquet"
    assert_frame_equal(loaded.frame, plain)
