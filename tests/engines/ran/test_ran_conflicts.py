"""Conflict rules on hand-made findings."""

from __future__ import annotations

import polars as pl

from opsforge.engines.ran import RanParams, SimulationConfig, simulate_network
from opsforge.engines.ran.conflicts import resolve_conflicts
from opsforge.engines.ran.findings import empty_findings
from opsforge.engines.ran.impact import score_impact
from opsforge.engines.ran.pipeline import _assemble
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
    limit2 = RanParams().conflicts.params.model_copy(
        update={"max_changed_sectors_per_site": 2, "mechanical_fallback": False}
    )
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
    assert kept["tilt_change_m_deg"].to_list() == [0.0] * kept.height
    # the default limit (3) lets a tri-sector site move as a whole
    kept3, conflicts3 = resolve_conflicts(prep, findings, RanParams().conflicts.params)
    assert {11, 12, 13} <= set(ids[kept3["cell_idx"].to_numpy()].tolist())
    assert "dropped" not in set(
        conflicts3.filter(pl.col("cell_idx").is_in([idx[11], idx[12], idx[13]]))["resolution"]
    )


def test_rest_of_a_change_beyond_the_ret_range_is_mechanical() -> None:
    net = simulate_network(SimulationConfig(num_sites=9).faultless(), seed=1)
    gis = net.gis.with_columns(
        pl.when(pl.col("cell_id") == 21)
        .then(11.5)
        .when(pl.col("cell_id") == 22)
        .then(0.0)
        .otherwise(pl.col("tilt_e_deg"))
        .alias("tilt_e_deg"),
        pl.when(pl.col("cell_id") == 22)
        .then(1.0)
        .when(pl.col("cell_id") == 23)
        .then(9.5)
        .otherwise(pl.col("tilt_m_deg"))
        .alias("tilt_m_deg"),
    ).with_columns(
        pl.when(pl.col("cell_id") == 23)
        .then(12.0)
        .otherwise(pl.col("tilt_e_deg"))
        .alias("tilt_e_deg")
    )
    prep = prepare(net.grid, gis, RanParams())
    idx = dict(zip(prep.gis["cell_id"].to_list(), prep.gis["cell_idx"].to_list(), strict=True))
    findings = pl.DataFrame(
        [
            _finding(idx[21], "overshooting", "downtilt", 2.0, 0.9),  # RET 0.5 left
            _finding(idx[22], "undershooting", "uptilt", -2.0, 0.8),  # RET at 0, mech 1
            _finding(idx[23], "overshooting", "downtilt", 2.0, 0.7),  # RET at 12, mech 9.5
        ],
        schema=empty_findings().schema,
    )
    kept, conflicts = resolve_conflicts(prep, findings, RanParams().conflicts.params)
    ids = prep.gis["cell_id"].to_numpy()
    kept = kept.with_columns(pl.Series("cell_id", ids[kept["cell_idx"].to_numpy()]))
    parts = kept.select("cell_id", "tilt_change_deg", "tilt_change_m_deg")
    got = {c: (t, m) for c, t, m in parts.iter_rows()}
    assert got[21] == (2.0, 1.5)  # 0.5 electrical to the RET maximum, 1.5 mechanical
    assert got[22] == (-1.0, -1.0)  # the mechanical tilt down to 0: 1 deg of the 2 asked
    assert got[23] == (0.5, 0.5)  # the bracket's 10 deg: 0.5 deg
    reason = kept.filter(pl.col("cell_id") == 21)["reason"][0]
    assert "1.5 deg as mechanical tilt (site visit)" in reason
    conflicts = conflicts.with_columns(pl.Series("cell_id", ids[conflicts["cell_idx"].to_numpy()]))
    clipped = conflicts.filter(pl.col("resolution") == "clipped")
    assert set(clipped["cell_id"]) == {22, 23}
    assert clipped["reason"].str.contains("mechanical range 0.0..10.0 deg").all()
    # the recommendation frame shows both tilts, the impact uses both
    params = RanParams()
    changes = kept.select("cell_idx", "tilt_change_deg", "tilt_change_m_deg")
    impact, _ = score_impact(prep, changes, params.impact.params)
    recs = _assemble(prep.gis, kept.drop("cell_id"), impact)
    row = recs.filter(pl.col("cell_id") == 21).row(0, named=True)
    assert row["proposed_tilt_e_deg"] == 12.0
    assert row["proposed_tilt_m_deg"] == row["current_tilt_m_deg"] + 1.5
    # off: the electrical part alone
    off = params.conflicts.params.model_copy(update={"mechanical_fallback": False})
    kept_off, conflicts_off = resolve_conflicts(prep, findings, off)
    assert kept_off["tilt_change_m_deg"].abs().sum() == 0.0
    assert idx[22] in set(
        conflicts_off.filter(pl.col("resolution") == "dropped")["cell_idx"].to_list()
    )
