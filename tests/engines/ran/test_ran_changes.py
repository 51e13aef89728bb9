"""Comparing two runs (:func:`opsforge.engines.ran.changes.compare_runs`): every verdict, the
cells left out, bad frames, and the ``cell_stats.csv`` / ``changes.csv`` round trips."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest
from delivery_fixtures import make_result

from opsforge.core.errors import DataQualityError
from opsforge.engines.ran import exports
from opsforge.engines.ran.changes import VERDICTS, compare_runs
from opsforge.engines.ran.model import CELL_STATS_SCHEMA, CHANGE_SCHEMA, RECOMMENDATION_SCHEMA
from opsforge.engines.ran.params import ChangeParams

P = ChangeParams()


def _stats(rows: dict[int, dict[str, Any]]) -> pl.DataFrame:
    """A cell_stats frame: a healthy default footprint per cell, overridden per cell."""
    base = {"cell_name": "", "band": "L1800", "lat_deg": 39.74, "lon_deg": -104.99,
            "isd_m": 1000.0, "bearing_deg": 0.0, "tilt_e_deg": 4.0, "tilt_m_deg": 0.0,
            "num_bins": 200, "traffic": 3000, "num_best_bins": 100, "best_traffic": 2000,
            "p95_distance_m": 1500.0, "max_distance_m": 2000.0, "num_far_bins": 10,
            "num_overshooting_bins": 2,
            "median_best_rsrp_dbm": -90.0}  # fmt: skip
    out = [{"cell_id": c, **base, "cell_name": f"C{c}", **over} for c, over in rows.items()]
    return pl.DataFrame(out, schema=CELL_STATS_SCHEMA)


def _recs(rows: list[tuple[int, str, str, float, float]]) -> pl.DataFrame:
    """Recommendations (cell, issue, action, tilt change, proposed electrical tilt)."""
    data = [
        {"cell_id": c, "issue": issue, "action": action, "tilt_change_deg": step,
         "confidence": 0.8, "proposed_tilt_e_deg": prop if action.endswith("tilt") else None,
         "proposed_tilt_m_deg": 0.0 if action.endswith("tilt") else None}
        for c, issue, action, step, prop in rows
    ]  # fmt: skip
    frame = pl.DataFrame(
        data, schema={k: RECOMMENDATION_SCHEMA[k] for k in data[0]} if data else None
    )
    return frame if data else pl.DataFrame(schema=RECOMMENDATION_SCHEMA)


def _verdicts(changes: pl.DataFrame) -> dict[int, str]:
    return dict(zip(changes["cell_id"].to_list(), changes["verdict"].to_list(), strict=True))


def test_every_verdict_from_the_measurements() -> None:
    down, up = ("overshooting", "downtilt"), ("undershooting", "uptilt")
    before = _stats({
        1: {"num_overshooting_bins": 60},  # downtilt applied, overshoot gone: effective
        2: {"num_overshooting_bins": 60},  # applied, fewer bins, still flagged: partial
        3: {"num_overshooting_bins": 60},  # applied, nothing moved: no_effect
        4: {"num_overshooting_bins": 60},  # applied, now undershooting: overcorrected
        5: {"num_best_bins": 10, "tilt_e_deg": 12.0},  # uptilt applied, grew: effective
        6: {"num_overshooting_bins": 60},  # GIS unchanged: not_applied
        7: {"num_overshooting_bins": 60},  # a third tilt: applied_differently
        8: {}, 9: {},  # swaps: resolved / still flagged
        10: {},  # silent after: no_measurements_after
        11: {"num_overshooting_bins": 3},  # nobody changed it, overshoots now: footprint_grew
        12: {"num_best_bins": 80, "best_traffic": 1500},  # footprint_shrank (bins)
        13: {"best_traffic": 1500},  # footprint_shrank (traffic, bins 20 % down)
        19: {"best_traffic": 1500},  # traffic alone: week-to-week variation, left out
        14: {},  # unchanged: left out
        15: {"num_best_bins": 5},  # too small to judge a shrink: left out
        17: {"num_overshooting_bins": 5, "num_far_bins": 40},  # reach halved: effective
        18: {"num_overshooting_bins": 0, "num_far_bins": 0},  # nothing to halve: no_effect
    })  # fmt: skip
    after = _stats({
        1: {"tilt_e_deg": 6.0, "num_overshooting_bins": 10},
        2: {"tilt_e_deg": 6.0, "num_overshooting_bins": 25},
        3: {"tilt_e_deg": 6.0, "num_overshooting_bins": 55},
        4: {"tilt_e_deg": 6.0, "num_overshooting_bins": 0, "num_best_bins": 20},
        5: {"num_best_bins": 30, "tilt_e_deg": 10.0},
        6: {"num_overshooting_bins": 60},
        7: {"tilt_e_deg": 5.0, "num_overshooting_bins": 40},
        8: {}, 9: {},
        10: {"num_bins": 0, "num_best_bins": 0, "traffic": 0, "best_traffic": 0},
        11: {"num_overshooting_bins": 40},
        12: {"num_best_bins": 40, "best_traffic": 1400},
        13: {"best_traffic": 800, "num_best_bins": 80},
        19: {"best_traffic": 800, "num_best_bins": 81},
        14: {"num_best_bins": 95}, 15: {"num_best_bins": 1},
        16: {},  # only after: new_cell
        17: {"tilt_e_deg": 6.0, "num_overshooting_bins": 5, "num_far_bins": 20},
        18: {"tilt_e_deg": 6.0, "num_overshooting_bins": 0, "num_far_bins": 0},
    })  # fmt: skip
    before_recs = _recs([
        (1, *down, 2.0, 6.0), (2, *down, 2.0, 6.0), (3, *down, 2.0, 6.0), (4, *down, 2.0, 6.0),
        (5, *up, -2.0, 10.0), (6, *down, 2.0, 6.0), (7, *down, 2.0, 6.0),
        (8, "crossed_feeder", "swap_feeders", 0.0, 0.0),
        (9, "crossed_feeder", "swap_feeders", 0.0, 0.0),
        (17, *down, 2.0, 6.0), (18, *down, 2.0, 6.0),
    ])  # fmt: skip
    after_recs = _recs([
        (2, *down, 2.0, 8.0), (4, *up, -2.0, 4.0), (6, *down, 2.0, 6.0),
        (9, "crossed_feeder", "swap_feeders", 0.0, 0.0),
    ])  # fmt: skip
    changes = compare_runs(before, after, before_recs, after_recs, P)
    assert changes.schema == pl.Schema(CHANGE_SCHEMA)
    assert _verdicts(changes) == {
        1: "effective", 2: "partial", 3: "no_effect", 4: "overcorrected", 5: "effective",
        6: "not_applied", 7: "applied_differently", 8: "resolved", 9: "still_flagged",
        10: "no_measurements_after", 11: "footprint_grew", 12: "footprint_shrank",
        13: "footprint_shrank", 16: "new_cell", 17: "effective", 18: "no_effect",
    }  # fmt: skip
    order = [VERDICTS.index(v) for v in changes["verdict"]]
    assert order == sorted(order)
    row = changes.filter(pl.col("cell_id") == 2).row(0, named=True)
    assert row["applied"] is True
    assert (row["tilt_before_deg"], row["tilt_after_deg"]) == (4.0, 6.0)
    assert row["issues_after"] == "overshooting"
    assert "overshooting bins 60 -> 25" in row["reason"]
    assert changes.filter(pl.col("cell_id") == 6)["applied"].item() is False
    assert changes.filter(pl.col("cell_id") == 8)["applied"].item() is None
    grew = changes.filter(pl.col("cell_id") == 11)["reason"].item()
    assert "overshooting bins 3 -> 40" in grew
    assert "check tilt, RET, bracket and mast on site" in grew
    assert changes["reason"].null_count() == 0


def test_growth_must_double_and_reach_the_minimum() -> None:
    before = _stats({1: {"num_overshooting_bins": 20}, 2: {"num_overshooting_bins": 0},
                     3: {"num_best_bins": 30}, 4: {"num_best_bins": 3},
                     5: {"num_far_bins": 20}, 6: {"num_far_bins": 2}})  # fmt: skip
    after = _stats({1: {"num_overshooting_bins": 39}, 2: {"num_overshooting_bins": 7},
                    3: {"num_best_bins": 59}, 4: {"num_best_bins": 14},
                    5: {"num_far_bins": 39}, 6: {"num_far_bins": 17}})  # fmt: skip
    empty = _recs([])
    assert compare_runs(before, after, empty, empty, P).height == 0  # +19 < 20, +7 < 8, ...
    after = _stats({1: {"num_overshooting_bins": 40}, 2: {"num_overshooting_bins": 8},
                    3: {"num_best_bins": 60}, 4: {"num_best_bins": 15},
                    5: {"num_far_bins": 40}, 6: {"num_far_bins": 18}})  # fmt: skip
    assert set(_verdicts(compare_runs(before, after, empty, empty, P)).items()) == {
        (c, "footprint_grew") for c in range(1, 7)}  # fmt: skip


def test_a_changed_gis_on_a_cell_nobody_proposed_is_named() -> None:
    before = _stats({1: {"num_best_bins": 100, "bearing_deg": 350.0}})
    after = _stats({1: {"num_best_bins": 30, "bearing_deg": 20.0, "tilt_m_deg": 3.0}})
    empty = _recs([])
    reason = compare_runs(before, after, empty, empty, P)["reason"].item()
    assert "The GIS changed: tilt 4.0 -> 7.0 deg, bearing 350.0 -> 20.0 deg." in reason
    same = _stats({1: {"num_best_bins": 30, "bearing_deg": 350.0}})
    assert "GIS" not in compare_runs(before, same, empty, empty, P)["reason"].item()


def test_bad_frames_fail_with_the_frame_and_column_named() -> None:
    stats, empty = _stats({1: {}}), _recs([])
    with pytest.raises(
        DataQualityError, match=r"after cell_stats lacks columns \['num_overshooting_bins'\]"
    ):
        compare_runs(stats, stats.drop("num_overshooting_bins"), empty, empty, P)
    with pytest.raises(
        DataQualityError, match="before cell_stats: cell_id 1 appears more than once"
    ):
        compare_runs(pl.concat([stats, stats]), stats, empty, empty, P)
    with pytest.raises(DataQualityError, match="before recs lacks columns"):
        compare_runs(stats, stats, empty.drop("proposed_tilt_e_deg"), empty, P)


def test_cell_stats_and_changes_round_trip(tmp_path: Path) -> None:
    result = make_result()
    path = exports.write_cell_stats(result, tmp_path / "cell_stats.csv")
    back = exports.read_cell_stats_csv(path)
    assert back.equals(result.cell_stats.sort("cell_id"))
    before = back
    after = back.with_columns(
        pl.when(pl.col("cell_id") == 203).then(0).otherwise(pl.col("num_bins")).alias("num_bins")
    )
    changes = compare_runs(before, after, result.recommendations, _recs([]), P)
    assert changes.height > 0
    written = exports.write_changes(changes, tmp_path / "changes.csv")
    assert exports.read_changes_csv(written).equals(changes)
    old = tmp_path / "old.csv"
    back.drop("num_overshooting_bins", "median_best_rsrp_dbm").write_csv(old)
    with pytest.raises(DataQualityError, match="lacks columns"):
        exports.read_cell_stats_csv(old)


def test_hand_edited_files_fail_with_file_row_and_column(tmp_path: Path) -> None:
    result = make_result()
    path = exports.write_cell_stats(result, tmp_path / "cell_stats.csv")
    lines = path.read_text().splitlines()
    cells = lines[2].split(",")
    cells[list(CELL_STATS_SCHEMA).index("num_bins")] = "lots"
    lines[2] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataQualityError, match=r"cell_stats.csv: row 2, column 'num_bins': 'lots'"):
        exports.read_cell_stats_csv(path)
    recs = exports.write_recommendations(result, tmp_path)["recommendations_csv"]
    text = recs.read_text().replace(",0.9,", ",high,", 1)
    assert text != recs.read_text()
    recs.write_text(text)
    with pytest.raises(
        DataQualityError, match=r"recommendations.csv: row \d+, column 'confidence'"
    ):
        exports.read_recommendations_csv(recs)
    (tmp_path / "empty.csv").write_bytes(b"")
    with pytest.raises(DataQualityError, match="not a readable CSV"):
        exports.read_cell_stats_csv(tmp_path / "empty.csv")


def test_alerts_name_the_neighbours_whose_footprint_moved_the_other_way() -> None:
    km = 1.0 / 111.32  # deg of latitude per km
    here = {"lat_deg": 39.74}
    before = _stats({
        1: {**here, "num_best_bins": 100},  # shrinks
        2: {**here, "lat_deg": 39.74 + 1.0 * km, "num_best_bins": 50},  # 1 km away, grows +60
        3: {**here, "lat_deg": 39.74 + 2.0 * km, "num_best_bins": 50},  # 2 km away, grows +10
        4: {**here, "lat_deg": 39.74 + 9.0 * km, "num_best_bins": 50},  # 9 km: too far
        5: {**here, "band": "L800", "num_best_bins": 50},  # another layer
        6: {**here, "lat_deg": 39.74 + 0.5 * km, "num_best_bins": 50},  # loses too
    })  # fmt: skip
    after = before.with_columns(
        pl.col("cell_id")
        .replace_strict({1: 30, 2: 110, 3: 60, 4: 150, 5: 150, 6: 45}, return_dtype=pl.Int64)
        .alias("num_best_bins")
    )
    empty = _recs([])
    changes = compare_runs(before, after, empty, empty, P)
    row = changes.filter(pl.col("cell_id") == 1).row(0, named=True)
    assert row["verdict"] == "footprint_shrank"
    assert row["related_cells"] == "2;3"
    assert "Neighbours that gained best-server bins: C2 (+60), C3 (+10)." in row["reason"]
    grew = changes.filter(pl.col("cell_id") == 2).row(0, named=True)
    assert grew["verdict"] == "footprint_grew"
    assert grew["related_cells"] == "1;6"  # within 3 ISD (3 km), losers largest first
    assert changes.filter(pl.col("cell_id") == 4)["related_cells"].item() is None  # alone
