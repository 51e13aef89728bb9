"""Parameters: seed names, operator YAML shape, validation."""

from __future__ import annotations

import pytest

from opsforge.core.errors import ConfigError
from opsforge.engines.ran import RanParams


def test_defaults_are_the_seed_values() -> None:
    p = RanParams()
    o = p.overshooters.params
    assert (
        o.edge_traffic_percent,
        o.min_cell_distance_m,
        o.percent_max_distance,
        o.min_overshooting_grids,
    ) == (0.1, 5000.0, 0.7, 50)
    i = p.interference.params
    assert (i.min_filtered_cells_per_grid, i.max_rsrp_diff_db, i.k_ring, i.perc_interference) == (
        4,
        5.0,
        3,
        0.33,
    )
    c = p.crossed_feeders.params
    assert (c.min_angular_deviation_deg, c.top_percent_threshold) == (90.0, 0.05)


def test_operator_config_with_seed_names() -> None:
    cfg = {
        "operator": "dish",
        "features": {
            "overshooters": {
                "enabled": True,
                "params": {"min_cell_distance": 3000, "edge_traffic_percent": 0.2},
            },
            "interference": {"enabled": False, "params": {"max_rsrp_diff": 4, "k_ring": 2}},
            "crossed_feeders": {"params": {"min_angular_deviation": 80}},
        },
    }
    p = RanParams.from_operator_config(cfg)
    assert p.overshooters.params.min_cell_distance_m == 3000.0
    assert p.overshooters.params.edge_traffic_percent == 0.2
    assert p.interference.enabled is False
    assert p.interference.params.max_rsrp_diff_db == 4.0
    assert p.crossed_feeders.params.min_angular_deviation_deg == 80.0
    assert RanParams.model_validate_json(p.model_dump_json()) == p


@pytest.mark.parametrize(
    ("features", "key"),
    [
        ({"overshooters": {"params": {"bogus": 1}}}, "features.overshooters.params.bogus"),
        (
            {"interference": {"params": {"perc_interference": 2.0}}},
            "features.interference.params.perc_interference",
        ),
        ({"teleport": {"enabled": True}}, "features.teleport"),
    ],
)
def test_bad_operator_config_names_the_key(features: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError) as err:
        RanParams.from_operator_config({"features": features})
    assert err.value.context["key"] == key


def test_seed_and_unit_name_together_is_rejected() -> None:
    with pytest.raises(ConfigError):
        RanParams.from_operator_config(
            {"overshooters": {"params": {"min_cell_distance": 1, "min_cell_distance_m": 2}}}
        )
