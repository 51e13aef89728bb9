"""Conflict rules on hand-made findings."""

from __future__ import annotations

import polars as pl

from opsforge.engines.ran import RanParams, SimulationConfig, simulate_network
from opsforge.engines.ran.conflicts import resolve_conflicts
from opsforge.engines.ran.findings import empty_findings
from opsforge.engines.ran.prepare import prepare


def _finding(
    cell_idx: int, issue: str, action: str, change: float, conf: float
) -> dict[str, object]:
    return {
        "cell_idx": cell_idx,
        "issue": issue,
        "action": action,
        "tilt_change_deg": change,
        "swap_with": None,
        "permutation": None,
        "confidence": conf,
        "reason": "r",
        "evidence_json": "{}",
    }


def test_rules() -> None:
    net = simulate_network(SimulationConfig(num_sites=9).faultless(), seed=1)
    gis = net.gis.with_columns(
        pl.when(pl.col("cell_id") == 21)
        .then(11.5)
        .otherwise(pl.col("tilt_e_deg"))
        .alias("tilt_e_deg")
    )
    prep = prepare(net.grid, gis, RanParams())
    idx = dict(zip(prep.gis["cell_id"].to_list(), prep.gis["cell_idx"].to_list(), strict=True))
    rows = [
        _finding(idx[11], "overshooting", "downtilt", 4.0, 0.9),  # clipped to 2
        _finding(idx[12], "overshooting", "downtilt", 1.0, 0.8),
        _finding(idx[13], "overshooting", "downtilt", 1.0, 0.7),  # third sector of site 1: dropped
        _finding(
            idx[21], "overshooting", "downtilt", 2.0, 0.9
        ),  # RET max 12 from 11.5: clipped to 0.5
        _finding(idx[31], "undershooting", "uptilt", -1.0, 0.9),  # feeder finding wins
        {
            **_finding(idx[31], "crossed_feeder", "swap_feeders", 0.0, 0.8),
            "swap_with": "32",
            "permutation": "31->32,32->31",
        },
        {
            **_finding(idx[32], "crossed_feeder", "swap_feeders", 0.0, 0.8),
            "swap_with": "31",
            "permutation": "31->32,32->31",
        },
    ]
    findings = pl.DataFrame(rows, schema=empty_findings().schema)
    limit2 = RanParams().conflicts.params.model_copy(update={"max_changed_sectors_per_site": 2})
    kept, conflicts = resolve_conflicts(prep, findings, limit2)
    ids = prep.gis["cell_id"].to_numpy()
    kept = kept.with_columns(pl.Series("cell_id", ids[kept["cell_idx"].to_numpy()]))
    conflicts = conflicts.with_columns(pl.Series("cell_id", ids[conflicts["cell_idx"].to_numpy()]))
    change = dict(zip(kept["cell_id"].to_list(), kept["tilt_change_deg"].to_list(), strict=True))
    assert change[11] == 2.0
    assert change[12] == 1.0
    assert change[21] == 0.5
    assert 13 not in change
    assert kept.filter(pl.col("cell_id") == 31)["action"].to_list() == ["swap_feeders"]
    res = {(c, r) for c, r in conflicts.select("cell_id", "resolution").iter_rows()}
    assert {(11, "clipped"), (13, "dropped"), (21, "clipped"), (31, "dropped")} <= res
    assert conflicts.filter(pl.col("cell_id") == 13)["reason"][0].startswith("site already has 2")
    # each conflict row carries the change the detector asked for and its confidence
    asked = {
        (c, r): (t, q)
        for c, r, t, q in conflicts.select(
            "cell_id", "resolution", "tilt_change_deg", "confidence"
        ).iter_rows()
    }
    assert asked[(11, "clipped")] == (4.0, 0.9)
    assert asked[(21, "clipped")] == (2.0, 0.9)
    assert asked[(13, "dropped")] == (1.0, 0.7)
    assert asked[(31, "dropped")] == (-1.0, 0.9)
    # the default limit (3) lets a tri-sector site move as a whole
    kept3, conflicts3 = resolve_conflicts(prep, findings, RanParams().conflicts.params)
    assert {11, 12, 13} <= set(ids[kept3["cell_idx"].to_numpy()].tolist())
    assert "dropped" not in set(
        conflicts3.filter(pl.col("cell_idx").is_in([idx[11], idx[12], idx[13]]))["resolution"]
    )
