"""Geohash integer encoding, k-rings and distances."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opsforge.core.errors import DataQualityError
from opsforge.engines.ran import geohash as gh

lat_st = st.floats(-89.9, 89.9, allow_nan=False)
lon_st = st.floats(-179.9, 179.9, allow_nan=False)


def test_known_vector_matches_reference_geohash() -> None:
    # reference value from geohash.org for (57.64911, 10.40744)
    code = gh.encode_int(57.64911, 10.40744, 11)
    assert gh.int_to_str(code, 11)[0] == "u4pruydqqvj"
    assert gh.int_to_str(gh.encode_int(57.64911, 10.40744, 6), 6)[0] == "u4pruy"


@settings(max_examples=200, deadline=None)
@given(lat=lat_st, lon=lon_st, precision=st.integers(1, 12))
def test_encode_decode_round_trip_within_half_a_cell(
    lat: float, lon: float, precision: int
) -> None:
    code = gh.encode_int(lat, lon, precision)
    dlat, dlon = gh.decode_int(code, precision)
    size_lat, size_lon = gh.cell_size_deg(precision)
    assert abs(float(dlat) - lat) <= size_lat / 2 + 1e-9
    assert abs(float(dlon) - lon) <= size_lon / 2 + 1e-9
    text = gh.int_to_str(code, precision)
    assert gh.str_to_int(text, precision)[0] == code


@settings(max_examples=100, deadline=None)
@given(ix=st.integers(0, 2**18 - 1), iy=st.integers(0, 2**17 - 1))
def test_xy_round_trip(ix: int, iy: int) -> None:
    code = gh.from_xy(np.array([ix]), np.array([iy]))
    x, y = gh.to_xy(code)
    assert (int(x[0]), int(y[0])) == (ix, iy)


def test_series_fast_path_equals_numpy_path() -> None:
    rng = np.random.default_rng(0)
    codes = gh.encode_int(rng.uniform(-60, 60, 500), rng.uniform(-170, 170, 500))
    strings = gh.int_to_str(codes)
    series = pl.Series("grid", strings)
    assert np.array_equal(gh.series_to_int(series), codes)
    assert np.array_equal(gh.str_to_int(strings), codes)


@pytest.mark.parametrize("bad", ["9xj65g", "9xj65gya", "9xj65ga"])
def test_bad_geohash_strings_raise_data_quality_error(bad: str) -> None:
    with pytest.raises(DataQualityError, match="row 1"):
        gh.str_to_int(np.array(["9xj65gy", bad]))
    with pytest.raises(DataQualityError):
        gh.series_to_int(pl.Series("grid", ["9xj65gy", bad]))


def test_k_ring_offsets_cover_the_square() -> None:
    dx, dy = gh.k_ring_offsets(3)
    assert dx.size == 49
    assert set(zip(dx.tolist(), dy.tolist(), strict=True)) == {
        (a, b) for a in range(-3, 4) for b in range(-3, 4)
    }


def test_distance_and_bearing() -> None:
    # one degree of latitude is ~111.2 km due north
    d = gh.haversine_m(40.0, -105.0, 41.0, -105.0)
    assert float(d) == pytest.approx(111_195, rel=1e-3)
    assert float(gh.bearing_deg(40.0, -105.0, 41.0, -105.0)) == pytest.approx(0.0, abs=1e-9)
    assert float(gh.bearing_deg(40.0, -105.0, 40.0, -104.9)) == pytest.approx(90.0, abs=0.1)
    dx, dy = gh.local_offsets_m(40.0, -105.0, 40.05, -104.95)
    assert float(np.hypot(dx, dy)) == pytest.approx(
        float(gh.haversine_m(40.0, -105.0, 40.05, -104.95)), rel=1e-3
    )
