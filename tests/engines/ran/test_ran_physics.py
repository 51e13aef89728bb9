"""Antenna pattern, path loss, spectral efficiency and the tilt reach model."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from opsforge.core.errors import InvalidInputError
from opsforge.engines.ran.antenna import (
    effective_downtilt_deg,
    horizontal_attenuation_db,
    sector_gain_db,
    vertical_attenuation_db,
)
from opsforge.engines.ran.propagation import (
    cost231_hata_db,
    spectral_efficiency_bps_hz,
    uma_nlos_db,
)
from opsforge.engines.ran.tilt import (
    distance_after_tilt_m,
    estimate_distance_after_tilt,
    tilt_geometry,
)


@settings(max_examples=150, deadline=None)
@given(az=st.floats(-180, 180), el=st.floats(-10, 60), tilt=st.floats(0, 15))
def test_pattern_is_maximal_at_boresight_and_bounded(az: float, el: float, tilt: float) -> None:
    g = float(sector_gain_db(az, el, tilt))
    assert -25.0 <= g <= 0.0
    assert g <= float(sector_gain_db(0.0, tilt, tilt)) == 0.0


def test_pattern_values_from_tr_36_814() -> None:
    # -3 dB at half the beamwidth, front-to-back capped at A_m = 25 dB, side lobe at 20 dB
    assert float(horizontal_attenuation_db(32.5, 65.0)) == pytest.approx(-3.0)
    assert float(horizontal_attenuation_db(180.0, 65.0)) == pytest.approx(-25.0)
    assert float(vertical_attenuation_db(11.0, 6.0, 10.0)) == pytest.approx(-3.0)
    assert float(vertical_attenuation_db(60.0, 0.0, 10.0)) == pytest.approx(-20.0)


def test_mechanical_tilt_varies_with_azimuth() -> None:
    assert float(effective_downtilt_deg(4.0, 3.0, 0.0)) == pytest.approx(7.0)
    assert float(effective_downtilt_deg(4.0, 3.0, 90.0)) == pytest.approx(4.0)
    assert float(effective_downtilt_deg(4.0, 3.0, 180.0)) == pytest.approx(1.0)


@settings(max_examples=100, deadline=None)
@given(d1=st.floats(50, 20_000), factor=st.floats(1.01, 10), h=st.floats(15, 150))
def test_path_loss_grows_with_distance(d1: float, factor: float, h: float) -> None:
    for env in ("urban", "suburban", "rural"):
        assert float(cost231_hata_db(d1 * factor, h, environment=env)) > float(
            cost231_hata_db(d1, h, environment=env)
        )
    assert float(uma_nlos_db(d1 * factor, h)) > float(uma_nlos_db(d1, h))


def test_hata_reference_value() -> None:
    # COST-231 Hata, 1800 MHz, h_b 30 m, h_m 1.5 m, 1 km, medium city: ~136.2 dB
    assert float(cost231_hata_db(1000.0, 30.0, 1800.0, environment="suburban")) == pytest.approx(
        136.2, abs=0.3
    )


def test_truncated_shannon_mapping_tr_36_942() -> None:
    se = spectral_efficiency_bps_hz(np.array([-20.0, -10.0, 0.0, 30.0]))
    assert se[0] == 0.0
    assert se[1] == pytest.approx(0.6 * np.log2(1.1))
    assert se[2] == pytest.approx(0.6)
    assert se[3] == pytest.approx(4.4)
    grid = np.linspace(-10, 40, 200)
    assert np.all(np.diff(spectral_efficiency_bps_hz(grid)) >= 0)


def test_seed_example_downtilt_reduces_distance() -> None:
    new_dist, reduction_pct = estimate_distance_after_tilt(
        d_max_m=10000, alpha_deg=4.0, h_m=30.0, delta_tilt_deg=1.0, tilt_direction="downtilt"
    )
    assert new_dist < 10000
    assert 0 < reduction_pct < 50


@pytest.mark.parametrize(
    ("tilt", "expected"), [(1.0, "decrease"), (2.0, "decrease"), (-1.0, "increase")]
)
def test_tilt_direction(tilt: float, expected: str) -> None:
    direction: Literal["downtilt", "uptilt"] = "downtilt" if tilt > 0 else "uptilt"
    new_dist, reduction_pct = estimate_distance_after_tilt(3000.0, 6.0, 30.0, abs(tilt), direction)
    assert (new_dist < 3000.0) == (expected == "decrease")
    assert (reduction_pct > 0) == (expected == "decrease")


@settings(max_examples=100, deadline=None)
@given(d=st.floats(200, 20_000), tilt=st.floats(0, 12), h=st.floats(15, 80), step=st.floats(0.5, 4))
def test_downtilt_reduces_reach_and_uptilt_extends_it(
    d: float, tilt: float, h: float, step: float
) -> None:
    # regime of tilt planning: the edge lies above the beam centre before and after the change
    # (nearer the site, below the beam, a downtilt raises the level and may extend the reach)
    assume(np.rad2deg(np.arctan2(h - 1.5, d)) <= tilt - step)
    down = float(distance_after_tilt_m(d, tilt, h, step))
    up = float(distance_after_tilt_m(d, tilt, h, -step))
    assert down <= d * (1 + 1e-6)
    assert up >= d * (1 - 1e-6)


def test_invalid_tilt_input_raises() -> None:
    with pytest.raises(InvalidInputError):
        estimate_distance_after_tilt(-1.0, 4.0, 30.0, 1.0)
    with pytest.raises(InvalidInputError):
        estimate_distance_after_tilt(1000.0, 4.0, 30.0, 1.0, "sideways")  # type: ignore[arg-type]


def test_geometric_edges() -> None:
    geo = tilt_geometry(30.0, 8.0, 10.0)
    assert geo.boresight_m == pytest.approx(30.0 / np.tan(np.deg2rad(8.0)))
    assert geo.lower_edge_m < geo.boresight_m < geo.upper_edge_m
    assert tilt_geometry(30.0, 4.0, 10.0).upper_edge_m == float("inf")
