from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from opsforge.core import units

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


@given(finite)
def test_deg_rad_round_trip(angle_deg: float) -> None:
    back = float(units.rad_to_deg(units.deg_to_rad(angle_deg)))
    assert abs(back - angle_deg) <= 1e-9 * max(1.0, abs(angle_deg))


@given(finite)
def test_wraps_stay_in_range(angle_deg: float) -> None:
    w360 = float(units.wrap_deg_360(angle_deg))
    w180 = float(units.wrap_deg_180(angle_deg))
    assert 0.0 <= w360 < 360.0
    assert -180.0 <= w180 < 180.0
    # same direction modulo a full turn
    assert abs(np.cos(np.deg2rad(w360)) - np.cos(np.deg2rad(w180))) < 1e-6


@given(st.floats(min_value=-200, max_value=100, allow_nan=False))
def test_db_linear_round_trip(value_db: float) -> None:
    assert abs(float(units.linear_to_db(units.db_to_linear(value_db))) - value_db) < 1e-9


def test_known_values() -> None:
    assert float(units.dbm_to_mw(0.0)) == 1.0
    assert abs(float(units.mw_to_dbm(1000.0)) - 30.0) < 1e-12
    assert float(units.km_to_m(1.5)) == 1500.0
    assert float(units.m_to_km(250.0)) == 0.25
    arr = units.wrap_deg_180(np.array([190.0, -190.0, 180.0]))
    np.testing.assert_allclose(arr, [-170.0, 170.0, -180.0])
