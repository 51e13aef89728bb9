"""Multi-layer networks: each band (else EARFCN) is judged as a network of its own."""

from __future__ import annotations

import polars as pl
import pytest

from opsforge.core.errors import DataQualityError
from opsforge.engines.ran import RanParams, RanResult, SimulationConfig, recommend, simulate_network
from opsforge.engines.ran.pipeline import _layers

CFG = SimulationConfig(
    num_sites=49, overshoot_fraction=0.05, undershoot_fraction=0.05, crossed_pair_site_fraction=0.08
)
OFFSET = 10**6  # cell ids of the second layer
LOSS_DB = 8.0  # the second layer is received this much weaker everywhere (higher band)


def _issues(res: RanResult, shift: int = 0) -> set[tuple[int, str, str]]:
    return {
        (int(c) - shift, str(i), str(a))
        for c, i, a in res.recommendations.select("cell_id", "issue", "action").iter_rows()
    }


@pytest.fixture(scope="module")
def layers() -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    net = simulate_network(CFG, seed=21)
    gis_a = net.gis.with_columns(pl.lit(800, dtype=pl.Int64).alias("earfcn"))
    gis_b = net.gis.with_columns(
        pl.col("cell_id") + OFFSET,
        pl.col("cell_name") + "_L1800",
        pl.lit(1800, dtype=pl.Int64).alias("earfcn"),
    )
    grid_b = net.grid.with_columns(pl.col("cell_id") + OFFSET, pl.col("rsrp_dbm") - LOSS_DB)
    return gis_a, net.grid, gis_b, grid_b


@pytest.mark.parametrize("key", ["band", "earfcn"])
def test_a_co_sited_weaker_layer_is_judged_on_its_own(
    layers: tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame], key: str
) -> None:
    gis_a, grid_a, gis_b, grid_b = layers
    if key == "band":
        gis_a = gis_a.drop("earfcn").with_columns(pl.lit("L800").alias("band"))
        gis_b = gis_b.drop("earfcn").with_columns(pl.lit("L1800").alias("band"))
    alone = recommend(grid_a, gis_a, RanParams())
    both = recommend(pl.concat([grid_a, grid_b]), pl.concat([gis_a, gis_b]), RanParams())
    assert both.summary["num_layers"] == 2
    first = {r for r in _issues(both) if r[0] < OFFSET}
    assert _issues(alone)  # the faults are found ...
    assert first == _issues(alone)  # ... the same in the first layer with the second beside it
    # the weaker layer is the same network 8 dB down: the same findings on its own cells
    mirrored = {
        (int(c) - OFFSET, str(i), str(a))
        for c, i, a in both.recommendations.filter(pl.col("cell_id") >= OFFSET)
        .select("cell_id", "issue", "action")
        .iter_rows()
    }
    assert mirrored == _issues(alone)
    assert both.cell_stats.height == gis_a.height + gis_b.height


def test_merged_zones_are_renumbered_by_size(
    layers: tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame],
) -> None:
    gis_a, grid_a, gis_b, grid_b = layers
    both = recommend(pl.concat([grid_a, grid_b]), pl.concat([gis_a, gis_b]), RanParams())
    zones = both.interference_zones
    assert len(zones) >= 2
    assert [z.zone_id for z in zones] == list(range(1, len(zones) + 1))
    assert [z.num_grids for z in zones] == sorted((z.num_grids for z in zones), reverse=True)
    per_zone = both.interference_grids.group_by("zone_id").len()
    assert dict(per_zone.iter_rows()) == {z.zone_id: z.num_grids for z in zones}
    # co-channel only: the cells of a zone belong to one layer
    for z in zones:
        assert len({c >= OFFSET for c in z.cell_ids}) == 1
    assert both.summary["num_interference_zones"] == len(zones)
    assert both.summary["num_bins"] == grid_a["grid"].n_unique()


def test_layer_key_band_then_earfcn_then_one_layer() -> None:
    gis = pl.DataFrame(
        {
            "cell_id": [1, 2, 3, 4],
            "band": ["L800", None, "", "L800"],
            "earfcn": [6300, 1300, 1300, None],
        }
    )
    got = {name: sorted(frame["cell_id"].to_list()) for name, frame in _layers(gis)}
    assert got == {"L800": [1, 4], "1300": [2, 3]}
    assert [n for n, _ in _layers(gis.drop("band", "earfcn"))] == [""]
    one = gis.with_columns(pl.lit("L1800").alias("band"))
    assert len(_layers(one)) == 1


def test_a_layer_without_measurements_is_skipped_and_none_at_all_is_an_error(
    layers: tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame],
) -> None:
    gis_a, grid_a, gis_b, _ = layers
    alone = recommend(grid_a, gis_a, RanParams())
    with_idle = recommend(grid_a, pl.concat([gis_a, gis_b]), RanParams())
    assert _issues(with_idle) == _issues(alone)
    assert with_idle.summary["num_layers"] == 1
    assert with_idle.cell_stats.height == gis_a.height + gis_b.height  # idle cells: zeros
    idle = with_idle.cell_stats.filter(pl.col("cell_id") >= OFFSET)
    assert idle["num_bins"].sum() == 0
    assert idle["traffic"].sum() == 0
    stray = grid_a.with_columns(pl.col("cell_id") + 5 * OFFSET)  # no row matches any cell
    with pytest.raises(DataQualityError, match="cell_id"):
        recommend(stray, pl.concat([gis_a, gis_b]), RanParams())
