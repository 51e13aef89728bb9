"""Operator configuration files (seed 000's YAML shape)."""

from __future__ import annotations

from pathlib import Path

import pytest

from opsforge.core.errors import ConfigError
from opsforge.engines.ran.io import load_operator_config
from opsforge.engines.ran.operator_config import expand_placeholders

REPO = Path(__file__).resolve().parents[3]


def test_dish_denver_example_loads_with_the_seed_values() -> None:
    cfg = load_operator_config(REPO / "config" / "operators" / "dish_denver.yaml")
    assert (cfg.operator, cfg.region, cfg.tenant) == ("DISH", "Denver", "dish_denver")
    over = cfg.params.overshooters.params
    assert over.edge_traffic_percent == pytest.approx(0.1)
    assert over.min_cell_distance_m == pytest.approx(5000.0)
    assert over.min_overshooting_grids == 50
    inter = cfg.params.interference.params
    assert (inter.min_filtered_cells_per_grid, inter.k_ring) == (4, 3)
    assert inter.max_rsrp_diff_db == pytest.approx(5.0)
    assert cfg.params.crossed_feeders.params.min_angular_deviation_deg == pytest.approx(90.0)
    assert cfg.processing.n_workers == 4
    assert cfg.data.input.grid is not None
    assert "${DATA_ROOT}" in cfg.data.input.grid


@pytest.mark.parametrize(
    ("yaml_text", "key"),
    [
        ("operator: X\nregion: Y\nfeaturez: {}\n", "featurez"),
        ("operator: X\nregion: Y\nprocessing: {n_workers: 0}\n", "processing.n_workers"),
        (
            "operator: X\nregion: Y\nfeatures:\n  overshooters:\n    params: {edge_traffic: 1}\n",
            "features.overshooters.params",
        ),
        ("operator: X\nregion: Y\ncolumns: {grid: {rsrp: level}}\n", "columns.grid.rsrp"),
        ("region: Y\n", "operator"),
    ],
)
def test_bad_key_fails_naming_key_and_file(tmp_path: Path, yaml_text: str, key: str) -> None:
    path = tmp_path / "op.yaml"
    path.write_text(yaml_text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_operator_config(path)
    assert str(path) in info.value.message
    assert key in info.value.message


def test_column_maps_and_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "op.yaml"
    path.write_text(
        "operator: T\nregion: R\ncolumns:\n  grid: {rsrp_dbm: LEVEL}\n  gis: {cell_id: ECGI}\n"
    )
    cfg = load_operator_config(path)
    assert cfg.grid_columns == {"rsrp_dbm": "LEVEL"}
    assert cfg.gis_columns == {"cell_id": "ECGI"}
    path.write_text("operator: [unclosed\n")
    with pytest.raises(ConfigError, match="cannot be read"):
        load_operator_config(path)


def test_expand_placeholders() -> None:
    assert expand_placeholders("${A}/x/${B}", {"A": "/d", "B": "y"}) == "/d/x/y"
    with pytest.raises(ConfigError, match="MISSING"):
        expand_placeholders("${MISSING}/x", {})
